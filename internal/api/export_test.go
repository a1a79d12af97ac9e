package api

import "github.com/gorilla/mux"

// Router exposes the router to the external tests (routes vs. OpenAPI).
func (s *Server) Router() *mux.Router { return s.router }
