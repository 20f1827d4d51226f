package seal

// SetPureGoForTest makes every RSAIdentity decrypt with crypto/rsa while on
// is true; restore puts back the previous setting.
func SetPureGoForTest(on bool) (restore func()) {
	old := forcePureGo.Swap(on)
	return func() { forcePureGo.Store(old) }
}

// LibcryptoAvailableForTest reports whether this process can use libcrypto
// (CONVOSEAL_CRYPTO and the library permitting), whatever SetPureGoForTest says.
func LibcryptoAvailableForTest() bool { return envBackend().libcrypto }
