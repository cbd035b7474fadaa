package iptables

// AppendParamsForTest exposes the restore line splitter to the external
// tests.
var AppendParamsForTest = appendParams
