package web

// LimiterKeys returns the number of keys l remembers.
func LimiterKeys(l *Limiter) int { return l.keys() }
