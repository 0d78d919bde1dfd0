package storetest

import (
	"testing"

	"outpost/backend/syncserver"
)

// sessionTests are the contract of syncserver.SessionStore.
var sessionTests []struct {
	name string
	fn   func(t *testing.T, s syncserver.Store)
}
