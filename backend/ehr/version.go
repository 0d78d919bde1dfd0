package ehr

// Record kinds. The patient is the first; the chart adds the others.
const (
	KindPatient      = "patient"
	KindEncounter    = "encounter"
	KindObservation  = "observation"
	KindCondition    = "condition"
	KindMedication   = "medication"
	KindAllergy      = "allergy"
	KindImmunization = "immunization"
	KindNote         = "note"
)

// Version is one immutable state of a record. Nothing is updated in place:
// a change is a new version whose parents are the versions it replaces.
type Version struct {
	VersionID string   `json:"versionId"`
	RecordID  string   `json:"recordId"`
	Kind      string   `json:"kind"`
	Parents   []string `json:"parents"` // none for the first version; two after a merge
	HLC       HLC      `json:"hlc"`
	Author    string   `json:"author"` // username of the author
	Device    string   `json:"device"` // device id of the device that wrote it
	Reason    string   `json:"reason"`
	Deleted   bool     `json:"deleted"` // a tombstone
	Body      []byte   `json:"body"`    // canonical JSON, FHIR R4 in shape
}
