package pinning

// DiffLockfiles compares what two lockfiles pin: tools and instructions,
// prompts, resource templates. Prompt and template changes name their
// entry "prompt:NAME" and "resource template:NAME", so they do not read
// as tools.
func DiffLockfiles(old, cur Lockfile) []Change {
	changes := Diff(old.Set, cur.Set)
	changes = append(changes, diffEntries("prompt:", old.Prompts, cur.Prompts)...)
	return append(changes, diffEntries("resource template:", old.ResourceTemplates, cur.ResourceTemplates)...)
}

// diffEntries compares optional prompt or resource-template pins.
func diffEntries(prefix string, old, cur *Set) []Change {
	if old == nil || cur == nil {
		return nil // not listed on one side: nothing to compare
	}
	cs := Diff(*old, *cur)
	for i := range cs {
		cs[i].Tool = prefix + cs[i].Tool
	}
	return cs
}

// SamePins reports whether two lockfiles pin the same things, whatever
// their dates and server URLs.
func SamePins(a, b Lockfile) bool {
	fp := func(s *Set) string {
		if s == nil {
			return ""
		}
		return s.Fingerprint
	}
	return a.Fingerprint == b.Fingerprint && fp(a.Prompts) == fp(b.Prompts) && fp(a.ResourceTemplates) == fp(b.ResourceTemplates)
}
