package fhir

// SetMaxImportBytes lowers the import size limit for a test and returns
// the function that restores it.
func SetMaxImportBytes(n int) func() {
	old := maxImportBytes
	maxImportBytes = n
	return func() { maxImportBytes = old }
}
