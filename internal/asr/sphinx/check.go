package sphinx

import (
	"fmt"
	"path/filepath"

	"github.com/convoseal/convoseal/internal/asr"
)

// Check reports whether New can succeed with opts: the libraries load and
// the model files exist. It loads no model (cheap: for a start-up check
// when the model itself is loaded on first use). Errors wrap
// asr.ErrUnavailable and say what to install.
func Check(opts Options) error {
	if opts.ModelDir == "" {
		opts.ModelDir = DefaultModelDir
	}
	if opts.Pocketsphinx == "" {
		opts.Pocketsphinx = defaultPocketsphinx
	}
	if opts.Sphinxbase == "" {
		opts.Sphinxbase = defaultSphinxbase
	}
	_, err := loadLib(opts.Pocketsphinx, opts.Sphinxbase)
	if err == nil {
		err = checkModel(filepath.Join(opts.ModelDir, "en-us"), filepath.Join(opts.ModelDir, "en-us.lm.bin"), filepath.Join(opts.ModelDir, "cmudict-en-us.dict"))
	}
	if err != nil {
		return fmt.Errorf("%w: %v (install it with: %s)", asr.ErrUnavailable, err, installHint)
	}
	return nil
}

// InstallHint is the command that installs the embedded recognizer.
const InstallHint = installHint
