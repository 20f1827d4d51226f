package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/operators"
)

// operatorDeps returns what t's operators may use: p.Operators, without the
// language model unless t's Service has it on (store.SetLanguageModel). The
// setting is read as the transcript is processed, so switching it off
// applies to transcripts still queued.
func (p *Pipeline) operatorDeps(ctx context.Context, t *convoseal.Transcript) (operators.Deps, error) {
	deps := p.Operators
	if deps.LLM == nil {
		return deps, nil
	}
	on, err := p.DB.ServiceLanguageModel(ctx, t.AccountSID, t.ServiceSID)
	if err != nil && !errors.Is(err, convoseal.ErrNotFound) {
		return deps, fmt.Errorf("language model setting of %s: %w", t.ServiceSID, err)
	}
	if !on {
		deps.LLM, deps.LLMWithheld = nil, true
	}
	return deps, nil
}
