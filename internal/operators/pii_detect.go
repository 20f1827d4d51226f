package operators

import "github.com/convoseal/convoseal/internal/pii"

// piiDetect runs internal/pii on one sentence.
func piiDetect(text string) []piiSpan {
	spans := pii.Detect(text)
	out := make([]piiSpan, len(spans))
	for i, s := range spans {
		out[i] = piiSpan{Start: s.Start, End: s.End, Type: s.Type, Text: s.Text}
	}
	return out
}
