package main

import "testing"

func TestGreet(t *testing.T) {
	if got := greet("Ada"); got != "Hello, Ada!" {
		t.Fatalf("greet(Ada) = %q", got)
	}
}
