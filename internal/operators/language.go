package operators

import (
	"context"
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

// languageSampleBytes bounds the text given to language identification;
// longer conversations are sampled evenly.
const languageSampleBytes = 4000

// englishFunctionWords are frequent English words not shared with other
// Latin-script languages (so not "a", "me", "no").
var englishFunctionWords = wordSet(`the and to you i is it that of for my your can this be have with on what
do not we are was will just there they he she would could about if so at how but from an or all
an our get yes yeah okay thank thanks please hello hi going want need like know think right well`)

// runNonEnglish is Non English Call: language identification with
// whatlanggo (trigram profiles of 84 languages) on a sample of the
// conversation, cross-checked with the share of English function words,
// which is robust on the short, informal sentences of calls where trigram
// statistics alone confuse English with Nynorsk or Scots. The predicted
// label is "yes" when the conversation is not in English; normalized_result
// is the detected language's ISO 639-1 code (639-3 where there is none).
func runNonEnglish(_ context.Context, conv *Conversation) (*Result, error) {
	text := languageSample(conv)
	words, english := 0, 0
	for _, t := range tokenize(text) {
		if hasDigit(t.norm) {
			continue
		}
		words++
		if englishFunctionWords[t.norm] {
			english++
		}
	}
	if words == 0 {
		res := yesNoResult(0.5, nil)
		res.PredictedLabel, res.PredictedProbability = ptr(labelNo), ptr(0.5)
		return res, nil
	}
	ratio := float64(english) / float64(words)
	sEnglish := min(1, ratio/0.25) // 1 for ordinary English (25%+ function words)
	info := whatlanggo.Detect(text)
	lang, pYes := "en", 0.0
	switch {
	case info.Script != nil && info.Script != unicode.Latin:
		lang, pYes = langCode(info.Lang), 0.95
	case info.Lang == whatlanggo.Eng || info.Lang < 0:
		pYes = 0.05 + 0.4*(1-sEnglish)*(1-info.Confidence)
	case sEnglish >= 0.8:
		pYes = 0.25 // trigrams disagree, but this reads as English
	default:
		lang, pYes = langCode(info.Lang), 0.5+0.45*max(info.Confidence, 1-sEnglish)
	}
	res := yesNoResult(round4(pYes), nil)
	res.NormalizedResult = ptr(lang)
	return res, nil
}

// langCode returns a language's ISO 639-1 code, or its 639-3 code.
func langCode(l whatlanggo.Lang) string {
	if c := l.Iso6391(); c != "" {
		return c
	}
	if c := l.Iso6393(); c != "" {
		return c
	}
	return "und"
}

// languageSample joins the conversation's sentences, sampling evenly when
// they exceed languageSampleBytes.
func languageSample(conv *Conversation) string {
	total := 0
	for _, s := range conv.Sentences {
		total += len(s.Transcript) + 1
	}
	step := 1
	if total > languageSampleBytes {
		step = (total + languageSampleBytes - 1) / languageSampleBytes
	}
	var b strings.Builder
	for i := 0; i < len(conv.Sentences) && b.Len() < languageSampleBytes; i += step {
		b.WriteString(conv.Sentences[i].Transcript)
		b.WriteByte(' ')
	}
	return b.String()
}
