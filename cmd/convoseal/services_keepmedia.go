package main

import (
	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

// keepMediaSwitch is `services keep-media`, which switches whether a
// Service's audio transcripts keep their original recording.
var keepMediaSwitch = serviceSwitch{
	use:   "keep-media SERVICE_SID on|off",
	short: "Switch keeping original recordings for a Service (operator only)",
	long: `With keep-media on, every new audio transcript of the Service also keeps its
original recording (16-bit PCM WAV), sealed like its other artifacts: with the
Service's customer key when it has one, else with the server key. The account
downloads it from /v2/Transcripts/{sid}/Media?Redacted=false.

It is off by default: then only the redacted recording is stored, and only
when the Service has MediaRedaction (which needs AutoRedaction). It cannot be
switched through the public API; the Service resource shows its state in
keep_media. Switching takes effect for transcripts processed from then on;
recordings already stored stay until their transcripts are deleted.`,
	label: "keep media",
	set:   (*store.DB).SetKeepMedia,
	state: func(svc *convoseal.Service) string {
		if !svc.KeepMedia {
			return "OFF: original recordings are not kept"
		}
		sealed := "the server key"
		if svc.EncryptionCredentialSID != "" {
			sealed = "the customer's key " + svc.EncryptionCredentialSID
		}
		return "ON: new audio transcripts keep their original recording, sealed with " + sealed
	},
}
