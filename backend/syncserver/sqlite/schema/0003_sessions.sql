-- outpost-server schema 3: sign-in sessions across devices.
SELECT 1;
