package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/store"
)

const maxOperatorConfig = 64 << 10

var availabilities = []string{"internal", "beta", "public", "retired", "general-availability", "deprecated"}

func (s *Server) listOperatorsIn(scope store.OperatorScope, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		keysetList(s, w, r, "operators", []string{"Availability", "LanguageCode"},
			func(f *form) func(context.Context, store.Page) ([]*convoseal.Operator, error) {
				avail := f.oneOf("Availability", "", availabilities...)
				lang := f.str("LanguageCode", 16)
				return operatorsInLanguage(lang, func(ctx context.Context, p store.Page) ([]*convoseal.Operator, error) {
					return s.DB.ListOperators(ctx, accountSID(r), scope, avail, p)
				})
			},
			func(v *convoseal.Operator) (time.Time, string) { return v.DateCreated, v.SID },
			func(o *convoseal.Operator) operatorJSON { return s.operatorJSON(o, operatorPath(o, path)) })
	}
}

// operatorsInLanguage filters query's operators to those supporting lang
// (all when lang is empty), reading on until a page is full or the store
// has no more rows.
func operatorsInLanguage(lang string, query func(context.Context, store.Page) ([]*convoseal.Operator, error)) func(context.Context, store.Page) ([]*convoseal.Operator, error) {
	if lang == "" {
		return query
	}
	return func(ctx context.Context, p store.Page) ([]*convoseal.Operator, error) {
		var out []*convoseal.Operator
		for {
			rows, err := query(ctx, p)
			if err != nil {
				return nil, err
			}
			for _, o := range rows {
				if operators.SupportsLanguage(o.OperatorType, lang) {
					out = append(out, o)
				}
			}
			if len(out) >= p.Size || len(rows) < p.Size || len(rows) == 0 {
				return out, nil
			}
			last := rows[len(rows)-1]
			p.After = store.Cursor(last.DateCreated, last.SID)
		}
	}
}

// operatorPath is the collection an operator's URL lives under.
func operatorPath(o *convoseal.Operator, listPath string) string {
	if listPath != "/v2/Operators/" {
		return listPath
	}
	if o.AccountSID == "" {
		return "/v2/Operators/PreBuilt/"
	}
	return "/v2/Operators/Custom/"
}

func (s *Server) fetchOperatorIn(scope store.OperatorScope, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sid, perr := pathSID(r, "sid", convoseal.PrefixOperator)
		if perr != nil {
			writeError(w, perr)
			return
		}
		o, err := s.DB.GetOperator(r.Context(), accountSID(r), sid)
		if err == nil && ((scope == store.PrebuiltOperators && o.AccountSID != "") || (scope == store.CustomOperators && o.AccountSID == "")) {
			err = convoseal.ErrNotFound
		}
		if err != nil {
			s.fail(w, r, err, path+sid)
			return
		}
		if scope == store.CustomOperators {
			setETag(w, o.Version)
		}
		// The URL that was asked: /v2/Operators/{Sid} answers with itself.
		writeJSON(w, http.StatusOK, s.operatorJSON(o, path))
	}
}

// operatorConfig validates a custom operator's Config against its type.
func operatorConfig(f *form, t *convoseal.OperatorType) json.RawMessage {
	raw := f.required("Config", maxOperatorConfig)
	if f.err != nil {
		return nil
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if dec.Decode(&v) != nil || v == nil || dec.More() {
		f.fail("Config must be a JSON object")
		return nil
	}
	if err := operators.ValidateConfig(t, v); err != nil {
		f.fail("Config does not fit operator type %s: %s", t.Name, err)
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

func (s *Server) createCustomOperator(w http.ResponseWriter, r *http.Request) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	name := f.required("FriendlyName", maxFriendlyName)
	typeName := f.required("OperatorType", 64)
	var t *convoseal.OperatorType
	if f.err == nil {
		var ok bool
		if t, ok = operators.OperatorType(typeName); !ok || !t.Configurable {
			f.fail("OperatorType %q is not a configurable operator type; see /v2/OperatorTypes", typeName)
		}
	}
	var config json.RawMessage
	if f.err == nil {
		config = operatorConfig(f, t)
	}
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	o := &convoseal.Operator{SID: convoseal.NewSID(convoseal.PrefixOperator), AccountSID: accountSID(r), FriendlyName: name,
		Author: accountSID(r), OperatorType: t.Name, Availability: "general-availability", Config: config}
	if err := s.DB.CreateOperator(r.Context(), o); err != nil {
		s.fail(w, r, err, "")
		return
	}
	setETag(w, o.Version)
	writeJSON(w, http.StatusAccepted, s.operatorJSON(o, "/v2/Operators/Custom/"))
}

func (s *Server) updateCustomOperator(w http.ResponseWriter, r *http.Request) {
	updateOne(s, w, r, convoseal.PrefixOperator, "/v2/Operators/Custom/", http.StatusAccepted, s.DB.UpdateOperator,
		func(f *form, o *convoseal.Operator) {
			o.FriendlyName = f.required("FriendlyName", maxFriendlyName)
			if t, _ := operators.OperatorType(o.OperatorType); f.err == nil && t != nil {
				o.Config = operatorConfig(f, t)
			}
		},
		func(o *convoseal.Operator) operatorJSON {
			setETag(w, o.Version)
			return s.operatorJSON(o, "/v2/Operators/Custom/")
		})
}

func (s *Server) deleteCustomOperator(w http.ResponseWriter, r *http.Request) {
	deleteOne(s, w, r, convoseal.PrefixOperator, "/v2/Operators/Custom/", s.DB.DeleteOperator)
}

func (s *Server) listOperatorTypes(w http.ResponseWriter, r *http.Request) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	p, offset := f.offsetPaging()
	lang := f.str("LanguageCode", 16)
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	all := operators.OperatorTypes()
	if lang != "" {
		all = slices.DeleteFunc(all, func(t *convoseal.OperatorType) bool { return !operators.SupportsLanguage(t.Name, lang) })
	}
	end := min(offset+p.size, len(all))
	out := []operatorTypeJSON{}
	for i := offset; i < end; i++ {
		out = append(out, s.operatorTypeJSON(all[i]))
	}
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, map[string]any{"operator_types": out, "meta": s.meta(r, "operator_types", p, next, pick(f, "LanguageCode"))})
}

func (s *Server) fetchOperatorType(w http.ResponseWriter, r *http.Request) {
	sid, perr := pathSID(r, "sid", convoseal.PrefixOperatorType)
	if perr != nil {
		writeError(w, perr)
		return
	}
	t, ok := operators.OperatorType(sid)
	if !ok {
		writeError(w, convoseal.NotFoundf("The requested resource /v2/OperatorTypes/%s was not found", sid))
		return
	}
	writeJSON(w, http.StatusOK, s.operatorTypeJSON(t))
}

func (s *Server) attachOperator(w http.ResponseWriter, r *http.Request) {
	svc, perr := pathSID(r, "service", convoseal.PrefixService)
	if perr == nil {
		var op string
		if op, perr = pathSID(r, "operator", convoseal.PrefixOperator); perr == nil {
			if err := s.DB.AttachOperator(r.Context(), accountSID(r), svc, op); err != nil {
				s.fail(w, r, err, "/v2/Services/"+svc+"/Operators/"+op)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"service_sid": svc, "operator_sid": op, "url": s.PublicURL + "/v2/Services/" + svc + "/Operators/" + op})
			return
		}
	}
	writeError(w, perr)
}

func (s *Server) detachOperator(w http.ResponseWriter, r *http.Request) {
	svc, perr := pathSID(r, "service", convoseal.PrefixService)
	if perr == nil {
		var op string
		if op, perr = pathSID(r, "operator", convoseal.PrefixOperator); perr == nil {
			if err := s.DB.DetachOperator(r.Context(), accountSID(r), svc, op); err != nil {
				s.fail(w, r, err, "/v2/Services/"+svc+"/Operators/"+op)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, perr)
}

func (s *Server) listAttachedOperators(w http.ResponseWriter, r *http.Request) {
	svc, perr := pathSID(r, "service", convoseal.PrefixService)
	if perr != nil {
		writeError(w, perr)
		return
	}
	v, err := s.DB.GetService(r.Context(), accountSID(r), svc)
	if err != nil {
		s.fail(w, r, err, "/v2/Services/"+svc)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"service_sid": svc, "operator_sids": v.OperatorSIDs, "url": s.PublicURL + "/v2/Services/" + svc + "/Operators"})
}
