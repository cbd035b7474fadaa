package sim

import (
	"errors"
	"strings"
)

// splitWords splits a command line into words as sh does for a simple
// command: blanks separate words, single quotes keep everything, double
// quotes keep everything but \" \\ \$ \`, a backslash outside quotes
// escapes the next character. Expansions ($VAR, globs, ~) are not done:
// a command that needs them belongs in a script.
func splitWords(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					b.WriteByte(s[i])
				}
			}
		case c == '#' && !inWord:
			// a comment to the end of the line
			i = len(s)
		default:
			inWord = true
			b.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}

// redirect takes a trailing "< FILE" (or "<FILE") off a command's words.
func redirect(words []string) (rest []string, stdin string, err error) {
	for i, w := range words {
		switch {
		case w == "<":
			if i != len(words)-2 {
				return nil, "", errors.New("\"< FILE\" must end the command")
			}
			return words[:i], words[i+1], nil
		case strings.HasPrefix(w, "<"):
			if i != len(words)-1 {
				return nil, "", errors.New("\"< FILE\" must end the command")
			}
			return words[:i], w[1:], nil
		case w == "|" || w == ">" || w == ">>" || w == "&&" || w == ";" || w == "||":
			return nil, "", errors.New("pipes, output redirections and command lists need a script (script: FILE)")
		}
	}
	return words, "", nil
}
