package admin

// The routes the web console needs (issue 12): an event by id, a plugin
// preview of an event, accounts with their usage. The test send with a
// custom payload is testSend (testsend.go), registered with the other
// webhook actions.
func (s *Server) consoleRoutes() {
	s.handle("GET /v1/events/{id}", s.getEvent, false)
	s.handle("POST /v1/webhooks/{id}/preview", s.preview, false)
	s.handle("GET /v1/accounts", s.listAccounts, false)
	s.handle("GET /v1/accounts/{account}", s.getAccount, false)
	s.handle("POST /v1/accounts/{account}/portal-links", s.createPortalLink, false)
	s.handle("GET /v1/webhooks/{id}/stats/buckets", s.statsBuckets, false)
}
