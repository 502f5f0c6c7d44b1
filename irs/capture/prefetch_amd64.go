package capture

// prefetch asks the processor to bring the n bytes from p into its caches
// without waiting for them: a hint, never a fault, even past a mapping.
//
//go:noescape
func prefetch(p *byte, n int)
