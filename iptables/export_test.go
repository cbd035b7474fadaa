package iptables

// Hooks for the external tests.
var (
	AppendParamsForTest = appendParams
	SplitParamsForTest  = splitParams
)
