package sync

// SetShipBatch lowers the events per audit shipment for a test, until it
// ends.
func SetShipBatch(n int) (restore func()) {
	old := shipBatch
	shipBatch = n
	return func() { shipBatch = old }
}
