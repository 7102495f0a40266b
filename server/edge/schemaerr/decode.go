package schemaerr

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"

	"github.com/secuaas/secumon/server/edge/problem"
)

// Decoding names the field behind an error of the generated code's binding or decoding (a
// parameter it could not bind, a body encoding/json could not read) and says what is wrong in
// JSON's words, never Go's: "must be an integer", not "cannot unmarshal number into Go struct
// field … of type int". The gate refuses nearly all of these first; this is the fallback.
func Decoding(err error) problem.FieldError {
	if name := paramName(err); name != "" {
		return problem.FieldError{Field: name, Message: "is not a valid value for this parameter"}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return problem.FieldError{Field: field, Message: "must be " + jsonKind(typeErr.Type)}
	}
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr):
		return problem.FieldError{Field: "body", Message: "is not valid JSON"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.FieldError{Field: "body", Message: "is empty or ends too early"}
	}
	return problem.FieldError{Field: "body", Message: "cannot be read as this operation's JSON body"}
}

// paramName finds the parameter named by an error of the generated code: each of its
// parameter errors (InvalidParamFormatError, RequiredParamError…) carries a ParamName.
func paramName(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		if f := v.FieldByName("ParamName"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return f.String()
		}
	}
	return ""
}

// jsonKind names the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}
