// gotemplate renders a Go text/template over JSON data, the way Keptn's webhook-service renders a webhook request:
// the data is the event decoded from JSON into a map[string]interface{} (numbers become float64), the template is
// parsed with the standard library's text/template and executed with the option missingkey=error. It is a test
// tool of tests/contract/keptn-webhook.test.ts (standard library only).
//
// Usage: gotemplate -template FILE -data FILE   (the rendered text on stdout; on an error, exit 1 and stderr)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/template"
)

func run() error {
	templatePath := flag.String("template", "", "file holding the template text")
	dataPath := flag.String("data", "", "file holding the data as a JSON object")
	flag.Parse()
	if *templatePath == "" || *dataPath == "" {
		return fmt.Errorf("usage: gotemplate -template FILE -data FILE")
	}
	text, err := os.ReadFile(*templatePath)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*dataPath)
	if err != nil {
		return err
	}
	data := map[string]interface{}{}
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	tmpl, err := template.New("").Option("missingkey=error").Parse(string(text))
	if err != nil {
		return err
	}
	return tmpl.Execute(os.Stdout, data)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate:", err)
		os.Exit(1)
	}
}
