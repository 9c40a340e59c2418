// Command greet prints a greeting.
package main

import (
	"fmt"
	"os"
)

func greet(name string) string {
	return "Hello, " + name + "!"
}

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greet(name))
}
