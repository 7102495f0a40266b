package client

// HttpAssertionVariant is one kind of HTTP assertion (HttpConfig.Assertions).
type HttpAssertionVariant interface {
	HttpAssertionStatusIn | HttpAssertionLatencyBelow | HttpAssertionHeaderEquals | HttpAssertionHeaderMatches |
		HttpAssertionBodyContains | HttpAssertionBodyNotContains | HttpAssertionBodyMatches | HttpAssertionJsonPath |
		HttpAssertionCertDaysAbove
}

// NewHttpAssertion wraps one kind of assertion as an HttpAssertion; kind is set from the
// variant, so its own Kind field may be left empty:
//
//	Assertions: &[]client.HttpAssertion{
//		client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.status", Op: client.JsonPathOpEq, Value: "ok"}),
//		client.NewHttpAssertion(client.HttpAssertionCertDaysAbove{Days: 21}),
//	}
func NewHttpAssertion[T HttpAssertionVariant](v T) HttpAssertion {
	var out HttpAssertion
	var err error
	switch v := any(v).(type) {
	case HttpAssertionStatusIn:
		err = out.FromHttpAssertionStatusIn(v)
	case HttpAssertionLatencyBelow:
		err = out.FromHttpAssertionLatencyBelow(v)
	case HttpAssertionHeaderEquals:
		err = out.FromHttpAssertionHeaderEquals(v)
	case HttpAssertionHeaderMatches:
		err = out.FromHttpAssertionHeaderMatches(v)
	case HttpAssertionBodyContains:
		err = out.FromHttpAssertionBodyContains(v)
	case HttpAssertionBodyNotContains:
		err = out.FromHttpAssertionBodyNotContains(v)
	case HttpAssertionBodyMatches:
		err = out.FromHttpAssertionBodyMatches(v)
	case HttpAssertionJsonPath:
		err = out.FromHttpAssertionJsonPath(v)
	case HttpAssertionCertDaysAbove:
		err = out.FromHttpAssertionCertDaysAbove(v)
	}
	mustEncode(err)
	return out
}
