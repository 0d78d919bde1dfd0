package syncserver

// sessionRoutes are the routes of sessions across devices.
func (s *Server) sessionRoutes() map[string]route { return nil }
