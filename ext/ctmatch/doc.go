package ctmatch
