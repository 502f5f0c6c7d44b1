package capture

// IsMapped reports whether a source reads its file through a mapping.
func IsMapped(s Source) bool {
	fs, ok := s.(*fileSource)
	return ok && fs.mapped != nil
}
