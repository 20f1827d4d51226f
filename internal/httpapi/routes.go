package httpapi

import (
	"net/http"
	"strings"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

func (s *Server) routes(mux *http.ServeMux) {
	// Accounts v1
	mux.HandleFunc("POST /v1/Credentials/PublicKeys", s.createPublicKey)
	mux.HandleFunc("GET /v1/Credentials/PublicKeys", s.listPublicKeys)
	mux.HandleFunc("GET /v1/Credentials/PublicKeys/{sid}", s.fetchPublicKey)
	mux.HandleFunc("POST /v1/Credentials/PublicKeys/{sid}", s.updatePublicKey)
	mux.HandleFunc("DELETE /v1/Credentials/PublicKeys/{sid}", s.deletePublicKey)

	// Intelligence v2
	mux.HandleFunc("POST /v2/Services", s.createService)
	mux.HandleFunc("GET /v2/Services", s.listServices)
	mux.HandleFunc("GET /v2/Services/{sid}", s.fetchService)
	mux.HandleFunc("POST /v2/Services/{sid}", s.updateService)
	mux.HandleFunc("DELETE /v2/Services/{sid}", s.deleteService)
	mux.HandleFunc("GET /v2/Services/{service}/Operators", s.listAttachedOperators)
	mux.HandleFunc("POST /v2/Services/{service}/Operators/{operator}", s.attachOperator)
	mux.HandleFunc("DELETE /v2/Services/{service}/Operators/{operator}", s.detachOperator)

	mux.HandleFunc("POST /v2/Transcripts", s.createTranscript)
	mux.HandleFunc("GET /v2/Transcripts", s.listTranscripts)
	mux.HandleFunc("GET /v2/Transcripts/{sid}", s.fetchTranscript)
	mux.HandleFunc("DELETE /v2/Transcripts/{sid}", s.deleteTranscript)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/Media", s.transcriptMedia)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/Media/Content", s.transcriptMediaContent)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/Sentences", s.listSentences)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/Sentences/Encrypted", s.encryptedSentences)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/OperatorResults", s.listOperatorResults)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/OperatorResults/Encrypted", s.encryptedOperatorResults)
	mux.HandleFunc("GET /v2/Transcripts/{sid}/OperatorResults/{operator}", s.fetchOperatorResult)

	mux.HandleFunc("GET /v2/Operators", s.listOperatorsIn(store.AllOperators, "/v2/Operators/"))
	mux.HandleFunc("GET /v2/Operators/{sid}", s.fetchOperatorIn(store.AllOperators, "/v2/Operators/"))
	mux.HandleFunc("GET /v2/Operators/PreBuilt", s.listOperatorsIn(store.PrebuiltOperators, "/v2/Operators/PreBuilt/"))
	mux.HandleFunc("GET /v2/Operators/PreBuilt/{sid}", s.fetchOperatorIn(store.PrebuiltOperators, "/v2/Operators/PreBuilt/"))
	mux.HandleFunc("GET /v2/Operators/Custom", s.listOperatorsIn(store.CustomOperators, "/v2/Operators/Custom/"))
	mux.HandleFunc("POST /v2/Operators/Custom", s.createCustomOperator)
	mux.HandleFunc("GET /v2/Operators/Custom/{sid}", s.fetchOperatorIn(store.CustomOperators, "/v2/Operators/Custom/"))
	mux.HandleFunc("POST /v2/Operators/Custom/{sid}", s.updateCustomOperator)
	mux.HandleFunc("DELETE /v2/Operators/Custom/{sid}", s.deleteCustomOperator)
	mux.HandleFunc("GET /v2/OperatorTypes", s.listOperatorTypes)
	mux.HandleFunc("GET /v2/OperatorTypes/{sid}", s.fetchOperatorType)

	// Anything else under /v1 and /v2: a Twilio-style 405 for a known path,
	// 404 otherwise.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, &convoseal.Error{Code: convoseal.CodeMethodNotAllowed, Status: http.StatusMethodNotAllowed,
				Message: "Method not allowed: " + r.URL.Path + " answers " + strings.Join(allow, ", ")})
			return
		}
		writeError(w, convoseal.NotFoundf("The requested resource %s was not found", r.URL.Path))
	})
}

// allowed lists the methods mux routes for r's path to a handler other than
// its catch-all "/".
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := *r
		probe.Method = m
		if _, pattern := mux.Handler(&probe); pattern != "/" && pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

func storeFilter(f *form) store.TranscriptFilter {
	return store.TranscriptFilter{
		ServiceSID:        f.sid("ServiceSid", convoseal.PrefixService),
		Status:            f.oneOf("Status", "", transcriptStatuses...),
		LanguageCode:      f.str("LanguageCode", 16),
		SourceSID:         f.str("SourceSid", 64),
		BeforeStartTime:   f.timestamp("BeforeStartTime"),
		AfterStartTime:    f.timestamp("AfterStartTime"),
		BeforeDateCreated: f.timestamp("BeforeDateCreated"),
		AfterDateCreated:  f.timestamp("AfterDateCreated"),
	}
}
