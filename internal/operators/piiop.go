package operators

import "context"

// piiSpan is one PII occurrence in a sentence (internal/pii.Span).
type piiSpan struct {
	Start, End int
	Type, Text string
}

// runPII is PII Extraction: internal/pii's detectors (e-mail addresses,
// phone, card, SSN and IBAN numbers, dates of birth, addresses, names) on
// every sentence; extract_results groups the values by type, and
// utterance_results lists, per sentence and type, the spans as
// utterance_parts.
func runPII(_ context.Context, conv *Conversation) (*Result, error) {
	res := &Result{OperatorType: TypePIIExtract, ExtractResults: map[string][]string{}, UtteranceResults: []UtteranceResult{}}
	seen := map[string]map[string]bool{}
	for _, s := range conv.Sentences {
		var order []string
		byType := map[string]*UtteranceResult{}
		for _, sp := range piiDetect(s.Transcript) {
			if sp.Start < 0 || sp.End > len(s.Transcript) || sp.Start >= sp.End {
				continue
			}
			if seen[sp.Type] == nil {
				seen[sp.Type] = map[string]bool{}
			}
			if !seen[sp.Type][sp.Text] {
				seen[sp.Type][sp.Text] = true
				res.ExtractResults[sp.Type] = append(res.ExtractResults[sp.Type], sp.Text)
			}
			ur := byType[sp.Type]
			if ur == nil {
				ur = &UtteranceResult{UtteranceIndex: s.SentenceIndex, MediaChannel: s.MediaChannel, Label: sp.Type, Probability: 1}
				byType[sp.Type] = ur
				order = append(order, sp.Type)
			}
			ur.UtteranceParts = append(ur.UtteranceParts, UtterancePart{Text: sp.Text, Start: sp.Start, End: sp.End, Label: sp.Type})
		}
		for _, t := range order {
			res.UtteranceResults = append(res.UtteranceResults, *byType[t])
		}
	}
	match := len(res.ExtractResults) > 0
	res.ExtractMatch, res.UtteranceMatch = ptr(match), ptr(match)
	return res, nil
}
