package proctree

import "testing"

func TestTagInEnvironmentBlock(t *testing.T) {
	env := []byte("A=1\x00" + EnvVar + "=x.y/3\x00B=2\x00")
	if got := tagIn(env); got != "x.y/3" {
		t.Errorf("tagIn = %q", got)
	}
	if got := tagIn([]byte("A=1\x00NOT_" + EnvVar + "=z\x00")); got != "" {
		t.Errorf("tagIn matched another variable: %q", got)
	}
}
