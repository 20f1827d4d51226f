package client_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"

	"github.com/convoseal/convoseal/client"
	"github.com/convoseal/convoseal/client/clienttest"
	"github.com/convoseal/convoseal/seal"
)

// Example lists an account's completed transcripts and decrypts each one's
// sentences and operator results. A stand-in server (package clienttest)
// plays your convoseal installation; against a real one, leave out the first
// block and give your own URL, credentials and private key.
func Example() {
	// --- stand-in for your installation: a Service sealing with your public key ---
	priv, err := rsa.GenerateKey(rand.Reader, 2048) // yours comes from convoseal keygen
	if err != nil {
		log.Fatal(err)
	}
	api := clienttest.NewServer()
	defer api.Close()
	gt := "GT0123456789abcdef0123456789abcdef"
	err = api.Add(clienttest.Transcript{SID: gt, ServiceSID: "GA0123456789abcdef0123456789abcdef", Redaction: true,
		Key: &priv.PublicKey, CredentialSID: "CR0123456789abcdef0123456789abcdef",
		Sentences: []byte(`{"transcript_sid":"` + gt + `","sentences":[` +
			`{"sid":"GX1","sentence_index":0,"media_channel":1,"start_time":"0.4","end_time":"2.1","transcript":"Thanks for calling, this is Sam.","confidence":"0.97","words":null},` +
			`{"sid":"GX2","sentence_index":1,"media_channel":2,"start_time":"2.6","end_time":"4.9","transcript":"Hi, I was charged twice for [CREDIT_CARD].","confidence":"0.91","words":null}]}`),
		OperatorResults: [][]byte{[]byte(`{"operator_type":"text-generation","name":"Conversation Summary","operator_sid":"LY0123456789abcdef0123456789abcdef",` +
			`"transcript_sid":"` + gt + `","text_generation_results":{"result":"A customer reports a double charge."},"status":"completed"}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	// --- end of the stand-in ---

	// Your private key(s). In a program: client.LoadKeys(client.KeySources{
	// Files: []string{"private_key.pem"}, Env: client.EnvPrivateKey}).
	keys := client.NewKeyring()
	if err := keys.Add(priv); err != nil {
		log.Fatal(err)
	}
	// Empty BaseURL, AccountSID and AuthToken are read from $CONVOSEAL_URL,
	// $TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN.
	c, err := client.New(client.Options{BaseURL: api.URL, AccountSID: clienttest.AccountSID,
		AuthToken: clienttest.AuthToken, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for t, err := range c.Transcripts(ctx, client.ListOptions{Status: "completed"}) {
		if err != nil {
			log.Fatal(err) // the listing stops at its first error
		}
		d, err := c.FetchSentences(ctx, t.SID, true)
		switch {
		case errors.Is(err, client.ErrNotEncrypted):
			continue // read t's plain Sentences resource instead
		case errors.Is(err, seal.ErrIncorrectIdentity):
			log.Fatalf("%s was sealed for a key we do not have: %v", t.SID, err)
		case err != nil:
			log.Fatal(err)
		}
		sentences, err := d.Sentences()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.SID)
		for _, s := range sentences {
			fmt.Printf("  %5.1fs channel %d: %s\n", s.StartTime, s.MediaChannel, s.Transcript)
		}
		results, err := c.FetchOperatorResults(ctx, t.SID, true)
		if err != nil {
			log.Fatal(err)
		}
		for _, d := range results {
			r, err := d.OperatorResult()
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("  %s (%s): %s\n", r.Name, d.OperatorSID, r.TextGenerationResults.Result)
		}
	}
	// Output:
	// GT0123456789abcdef0123456789abcdef
	//     0.4s channel 1: Thanks for calling, this is Sam.
	//     2.6s channel 2: Hi, I was charged twice for [CREDIT_CARD].
	//   Conversation Summary (LY0123456789abcdef0123456789abcdef): A customer reports a double charge.
}
