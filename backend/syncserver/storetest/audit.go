package storetest

import (
	"testing"

	"outpost/backend/syncserver"
)

// auditTests are the contract of syncserver.AuditStore.
var auditTests []struct {
	name string
	fn   func(t *testing.T, s syncserver.Store)
}
