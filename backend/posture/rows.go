package posture

// The rows of the security report: every requirement of the clinic's
// security requirements, in their order. The ids and titles are copied
// from the project's SECURITY-REQUIREMENTS.md (rows S1–S35 answer the
// SEC-CAT audit of OpenEMR 7.0.0, December 2023; P1–P7 the seven attack
// classes of a second review of OpenEMR). They are data here because that
// file is not shipped: the program never reads it.
var requirements = []struct{ ID, Title string }{
	{"S1", "Deleting a user or a clinical record needs a second authorised person"},
	{"S2", "Every input is validated for type, length and format before it is stored"},
	{"S3", "No command or SQL injection"},
	{"S4", "No cross-site scripting"},
	{"S5", "Usage and privacy notice before access"},
	{"S6", "User functions and system administration are separated"},
	{"S7", "No credentials in code"},
	{"S8", "Not hosted on a general-purpose server"},
	{"S9", "No path manipulation"},
	{"S10", "Restrictive configuration by default"},
	{"S11", "Denial-of-service limits"},
	{"S12", "No technical detail in errors"},
	{"S13", "Session cookies HttpOnly and Secure"},
	{"S14", "No outdated components"},
	{"S15", "No unmaintained components"},
	{"S16", "Update and security-patch notifications"},
	{"S17", "Brute-force protection"},
	{"S18", "Re-authentication when roles or authenticators change"},
	{"S19", "Temporary passwords"},
	{"S20", "Show last login and attempts since"},
	{"S21", "Password changes differ in at least 8 characters"},
	{"S22", "At most 3 concurrent sessions per account"},
	{"S23", "Limited session duration"},
	{"S24", "Inactive accounts disabled after 35 days"},
	{"S25", "Components from official sources only"},
	{"S26", "Supply-chain vulnerability tool"},
	{"S27", "Code review of changes"},
	{"S28", "CI/CD segregation and integrity"},
	{"S29", "Any record's content at any past moment, with who and when"},
	{"S30", "Rich audit records"},
	{"S31", "Audit backup at least every 7 days off the system"},
	{"S32", "Audit retention 7–75 years"},
	{"S33", "Audit in a central repository"},
	{"S34", "Audit concurrent sessions from different workstations"},
	{"S35", "Alarm when audit fails"},
	{"P1", "No authentication bypass"},
	{"P2", "No SQL injection"},
	{"P3", "No remote code execution"},
	{"P4", "No unauthenticated information disclosure"},
	{"P5", "No unrestricted upload"},
	{"P6", "No CSRF"},
	{"P7", "No unauthenticated admin actions"},
}

// IDs returns the row ids in report order (S1 … S35, P1 … P7).
func IDs() []string {
	out := make([]string, len(requirements))
	for i, r := range requirements {
		out[i] = r.ID
	}
	return out
}
