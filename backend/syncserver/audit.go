package syncserver

// auditRoutes are the routes of audit shipping.
func (s *Server) auditRoutes() map[string]route { return nil }
