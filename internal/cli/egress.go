package cli

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// listFlag is a repeatable flag of strings; a value may also list several,
// comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Type() string { return "list" }

func (l *listFlag) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}

// egressFlags are a worker's http egress rules and its secrets directory.
type egressFlags struct {
	allow, deny listFlag
	file        *string
	secretsDir  *string
}

func addEgressFlags(f *flags) *egressFlags {
	e := &egressFlags{}
	f.fs.Var(&e.allow, "http-allow", "the http target may call these CIDRs, addresses or host names (*.example.com); repeatable. "+
		"With any allow rule, everything else is denied; loopback and link-local need an address or CIDR rule")
	f.fs.Var(&e.deny, "http-deny", "the http target may not call these CIDRs, addresses or host names; repeatable; beats --http-allow")
	e.file = f.string("http-egress-file", "", "YAML file with allow: and deny: lists, added to --http-allow and --http-deny")
	e.secretsDir = f.string("secrets-dir", "", "directory of secrets jobs refer to with {\"secret\": \"NAME\"}, one file per secret "+
		"(else PINK_SECRET_NAME variables)")
	return e
}

// rules returns the allow and deny rules of the flags and the file.
func (e *egressFlags) rules() (allow, deny []string, err error) {
	allow, deny = append([]string(nil), e.allow...), append([]string(nil), e.deny...)
	if *e.file == "" {
		return allow, deny, nil
	}
	b, err := os.ReadFile(*e.file)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: --http-egress-file: %v", ErrUsage, err)
	}
	var doc struct {
		Allow []string `yaml:"allow"`
		Deny  []string `yaml:"deny"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: --http-egress-file %s: %v", ErrUsage, *e.file, err)
	}
	return append(allow, doc.Allow...), append(deny, doc.Deny...), nil
}
