package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
	"github.com/youmark/pkcs8"
)

// keygenExitCodesHelp lists the exit codes keygen can end with.
const keygenExitCodesHelp = `Exit codes:
  0  success
  1  other failure (a key file already exists, a write failed)
  2  usage error (bad flags or arguments)
  3  passphrase empty, missing or its two entries differ (--encrypt)`

func newKeygenCommand() *cobra.Command {
	var (
		bits     int
		dir      string
		encrypt  bool
		passEnv  string
		privName = "private_key.pem"
		pubName  = "public_key.pem"
	)
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an RSA key pair for Conversational Intelligence encryption",
		Long: `keygen writes a new RSA key pair: private_key.pem (PKCS #8, mode 0600) and
public_key.pem (PKIX), the same files as the documented commands

  openssl genrsa -out private_key.pem 2048
  openssl rsa -in private_key.pem -pubout -out public_key.pem

It never overwrites an existing file. Register public_key.pem as a public-key
credential and select it as the Service's EncryptionCredentialSid; keep
private_key.pem secret: nobody, not the service's operator either, can decrypt
your transcripts without it.

With --encrypt the private key is protected with a passphrase (PBES2: PBKDF2-
HMAC-SHA256 and AES-256-CBC, readable by openssl), taken from the environment
variable named by --passphrase-env or asked for on the terminal.

` + keygenExitCodesHelp,
		Example: `  convoseal keygen
  convoseal keygen --bits 4096 --dir ~/.convoseal
  CONVOSEAL_PASSPHRASE=… convoseal keygen --encrypt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch bits {
			case 2048, 3072, 4096:
			default:
				return usageErrorf("--bits must be 2048, 3072 or 4096, not %d", bits)
			}
			privPath, pubPath := filepath.Join(dir, privName), filepath.Join(dir, pubName)
			for _, p := range []string{privPath, pubPath} {
				if _, err := os.Lstat(p); err == nil {
					return withCode(exitFailure, fmt.Errorf("%s already exists; keygen never overwrites a key (move it away or use --dir)", p))
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			var pass []byte
			if encrypt {
				var err error
				if pass, err = readPassphrase(passEnv, true); err != nil {
					return withCode(exitKey, err)
				}
			}
			priv, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				return fmt.Errorf("generating key: %w", err)
			}
			privPEM, err := marshalPrivateKey(priv, pass)
			if err != nil {
				return err
			}
			pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
			if err != nil {
				return fmt.Errorf("encoding public key: %w", err)
			}
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

			if err := writeNewFile(privPath, privPEM, 0o600); err != nil {
				return err
			}
			if err := writeNewFile(pubPath, pubPEM, 0o644); err != nil {
				os.Remove(privPath)
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Wrote %s (%d-bit RSA, mode 0600; keep it secret)\n", privPath, bits)
			fmt.Fprintf(out, "Wrote %s\n", pubPath)
			fmt.Fprintf(out, "Fingerprint: %s\n\n", seal.Fingerprint(&priv.PublicKey))
			fmt.Fprintf(out, `Next: register the public key and select it on your Service, e.g.
  curl -u "$ACCOUNT_SID:$AUTH_TOKEN" "$CONVOSEAL_URL/v1/Credentials/PublicKeys" \
    --data-urlencode "PublicKey@%s" --data-urlencode "FriendlyName=my key"
then decrypt what you download with
  convoseal decrypt --private-key %s LOCATION_URL
`, pubPath, privPath)
			return nil
		},
	}
	cmd.Flags().IntVar(&bits, "bits", 2048, "RSA modulus size: 2048, 3072 or 4096")
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write private_key.pem and public_key.pem in")
	cmd.Flags().BoolVar(&encrypt, "encrypt", false, "protect the private key with a passphrase")
	cmd.Flags().StringVar(&passEnv, "passphrase-env", defaultPassphraseEnv, "environment variable holding the passphrase (else it is asked for on the terminal)")
	return cmd
}

func marshalPrivateKey(priv *rsa.PrivateKey, pass []byte) ([]byte, error) {
	if pass == nil {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("encoding private key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(priv, pass, &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize: 16, IterationCount: 600_000, HMACHash: crypto.SHA256,
		},
	})
	clear(pass)
	if err != nil {
		return nil, fmt.Errorf("encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// writeNewFile creates path with mode perm, failing if it exists.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
