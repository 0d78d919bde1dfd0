-- outpost-server schema 2: audit chains shipped by devices.
SELECT 1;
