package meta
