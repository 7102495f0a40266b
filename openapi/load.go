package openapi

import (
	"context"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

var registerOnce sync.Once

// RegisterFormats teaches kin-openapi the string formats the contract uses beyond its
// built-in date and date-time: without this, "uuid" and "email" would not be checked at all.
func RegisterFormats() {
	registerOnce.Do(func() {
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
		openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	})
}

// Load parses and validates one of the embedded documents (MainYAML or PublicYAML),
// examples included, with SecuMon's string formats registered.
func Load(ctx context.Context, data []byte) (*openapi3.T, error) {
	RegisterFormats()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	ctx = openapi3.WithValidationOptions(ctx, openapi3.EnableExamplesValidation(), openapi3.EnableSchemaFormatValidation())
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	return doc, nil
}
