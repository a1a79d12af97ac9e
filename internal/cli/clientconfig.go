package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// clientConfig is the optional file ~/.config/pink/config.yaml (or
// $PINK_CONFIG): defaults for the client flags.
type clientConfig struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
	CACert string `yaml:"ca_cert"`
}

func loadClientConfig() (clientConfig, error) {
	var c clientConfig
	path := os.Getenv("PINK_CONFIG")
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return c, nil
		}
		path = filepath.Join(dir, "pink", "config.yaml")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv("PINK_CONFIG") == "" {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("client config: %w", err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("client config %s: %w", path, err)
	}
	return c, nil
}
