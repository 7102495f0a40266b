package worker

import (
	"regexp"
	"unicode/utf8"
)

// locationPattern is the contract's LocationName (openapi/secumon.yaml): what a check's
// `locations` may list is exactly what a worker's --worker-location may be.
var locationPattern = regexp.MustCompile(`^[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$`)

// LocationRule is what ValidLocation asks, for the messages that refuse a location.
const LocationRule = "at most 64 printable characters, no leading or trailing space"

// ValidLocation says whether name may be a worker's location (and so one a check lists).
func ValidLocation(name string) bool {
	return utf8.RuneCountInString(name) <= 64 && locationPattern.MatchString(name)
}
