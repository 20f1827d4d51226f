package operators

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
)

// newSummarization returns the Summarization runner: the language model
// when one is configured, else local extractive summarisation.
func newSummarization(deps Deps) Runner {
	if deps.LLM != nil {
		return runFunc(func(ctx context.Context, conv *Conversation) (*Result, error) {
			out, err := deps.LLM.Complete(ctx, summarySystem+dataRule, conversationMessage(conv), nil)
			if err != nil {
				return nil, fmt.Errorf("summarization: %w", err)
			}
			out = strings.TrimSpace(out)
			if out == "" {
				return nil, errBadAnswer
			}
			return textResult(out), nil
		})
	}
	return runFunc(func(_ context.Context, conv *Conversation) (*Result, error) {
		return textResult(extractiveSummary(conv)), nil
	})
}

const summarySystem = `You summarise customer-service conversations. Write a summary of the conversation in 2 to 3 ` +
	`sentences of plain prose: why the customer called, what was done, and how it ended. Do not invent details; ` +
	`do not add a title, bullet points or quotes.`

// textResult is a text-generation result.
func textResult(s string) *Result {
	return &Result{OperatorType: TypeTextGeneration, TextGenerationResults: &TextGeneration{Result: s}}
}

// stopWords are function words and call fillers that say nothing about
// what a conversation is about.
var stopWords = wordSet(`
a an the and or but if so of to in on at by for with from about into over after before under again then
once here there when where why how all any both each few more most other some such no nor not only own
same than too very can will just should now is am are was were be been being have has had having do
does did doing would could might must shall may i me my mine myself you your yours he him his she her
it its we us our they them their this that these those what which who whom let get got go going gonna
want wanna like know think see look yes yeah yep okay ok alright right sure well oh uh um hmm mhm hello
hi hey thanks thank please sorry welcome bye goodbye great good fine perfect awesome really actually
also maybe just one moment second minute bit lot thing things something anything everything able need
today call calling help`)

// fillerRules recognise greetings and pleasantries; a sentence that is
// mostly these is not summary material.
var fillerRules = []rule{mkRule("filler", 1, anyone, false,
	"thank|thanks you? for calling|holding|waiting|your patience|choosing|contacting",
	"how can|may i help|assist you?", "what can i do for you", "is there anything else",
	"have a great|good|nice|wonderful day|evening|weekend|one", "you are welcome", "my pleasure",
	"my name is {name}", "this is {name}", "speaking with {name}", "please hold", "one moment please?",
	"let me check|look|see|pull", "can|may i have|get your name|account|number", "bye|goodbye",
	"i am sorry|apologize", "sorry to hear|about|for that", "i understand", "happy|glad to help|assist",
	"of course", "no problem")}

// summaryCandidate is a sentence eligible for an extractive summary.
type summaryCandidate struct {
	idx      int // index in conv.Sentences
	terms    []termWeight
	norm     float64
	rank     float64
	customer bool
	question bool
}

// termWeight is one term of a sparse TF-IDF vector (sorted by term).
type termWeight struct {
	term int
	w    float64
}

// extractiveSummary picks the two or three most central informative
// sentences with TextRank over TF-IDF cosine similarity (PageRank whose
// teleport favours the customer's first statement of the problem), makes
// sure both sides are represented, and returns them in original order.
func extractiveSummary(conv *Conversation) string {
	r := conversationRoles(conv)
	vocab := map[string]int{}
	var cands []summaryCandidate
	var docFreq []int
	for i, s := range conv.Sentences {
		toks := tokenize(s.Transcript)
		filler := map[int]bool{}
		for _, h := range matchRules(toks, fillerRules) {
			for _, p := range h.parts {
				for ti, t := range toks {
					if t.start >= p.Start && t.end <= p.End {
						filler[ti] = true
					}
				}
			}
		}
		tf := map[int]float64{}
		for ti, t := range toks {
			if filler[ti] || stopWords[t.norm] || len(t.norm) < 2 {
				continue
			}
			term := stem(t.norm)
			id, ok := vocab[term]
			if !ok {
				id = len(vocab)
				vocab[term] = id
				docFreq = append(docFreq, 0)
			}
			if tf[id] == 0 {
				docFreq[id]++
			}
			tf[id]++
		}
		if len(tf) < 3 {
			continue
		}
		c := summaryCandidate{idx: i, customer: r.channels >= 2 && s.MediaChannel != r.agent,
			question: strings.HasSuffix(strings.TrimSpace(s.Transcript), "?")}
		for id, n := range tf {
			c.terms = append(c.terms, termWeight{term: id, w: n})
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return ""
	}
	// TF-IDF weights.
	nDocs := float64(len(conv.Sentences))
	for ci := range cands {
		c := &cands[ci]
		sq := 0.0
		for i := range c.terms {
			tw := &c.terms[i]
			tw.w = (1 + math.Log(tw.w)) * math.Log(1+nDocs/float64(docFreq[tw.term]))
			sq += tw.w * tw.w
		}
		c.norm = math.Sqrt(sq)
		sort.Slice(c.terms, func(a, b int) bool { return c.terms[a].term < c.terms[b].term })
	}
	textRank(cands)

	k := 2
	if len(cands) >= 8 {
		k = 3
	}
	k = min(k, len(cands))
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].rank > cands[order[b]].rank })
	picked := append([]int(nil), order[:k]...)
	// Both sides: if every pick is one side's, swap the weakest pick for the
	// other side's best sentence.
	if r.channels >= 2 && k >= 2 {
		side := cands[picked[0]].customer
		oneSided := true
		for _, p := range picked {
			oneSided = oneSided && cands[p].customer == side
		}
		if oneSided {
			for _, o := range order[k:] {
				if cands[o].customer != side {
					picked[k-1] = o
					break
				}
			}
		}
	}
	sort.Ints(picked)
	parts := make([]string, len(picked))
	for i, p := range picked {
		parts[i] = strings.TrimSpace(conv.Sentences[cands[p].idx].Transcript)
	}
	return strings.Join(parts, " ")
}

// textRank sets each candidate's rank: PageRank over the cosine-similarity
// graph, teleporting preferentially to informative sentences (summed TF-IDF
// weight), to the customer's first two statements (why they called) and to
// the last two candidates (how it ended), and away from questions.
func textRank(cands []summaryCandidate) {
	n := len(cands)
	sim := make([][]float64, n)
	deg := make([]float64, n)
	for i := range sim {
		sim[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := cosine(&cands[i], &cands[j])
			sim[i][j], sim[j][i] = s, s
			deg[i] += s
			deg[j] += s
		}
	}
	info := make([]float64, n)
	maxInfo := 0.0
	for i := range cands {
		for _, tw := range cands[i].terms {
			info[i] += tw.w
		}
		maxInfo = max(maxInfo, info[i])
	}
	teleport := make([]float64, n)
	total, customerSeen := 0.0, 0
	for i := range cands {
		bonus := 1.0
		if cands[i].customer && customerSeen < 2 {
			bonus += 1.5
			customerSeen++
		} else if cands[i].question {
			bonus = 0.5
		}
		if i >= n-2 {
			bonus += 1
		}
		teleport[i] = (0.5 + info[i]/maxInfo) * bonus
		total += teleport[i]
	}
	for i := range teleport {
		teleport[i] /= total
	}
	const damping = 0.85
	rank := append([]float64(nil), teleport...)
	next := make([]float64, n)
	for iter := 0; iter < 30; iter++ {
		dangling := 0.0
		for j := 0; j < n; j++ {
			if deg[j] == 0 {
				dangling += rank[j]
			}
		}
		for i := 0; i < n; i++ {
			s := 0.0
			for j := 0; j < n; j++ {
				if sim[i][j] > 0 {
					s += sim[i][j] / deg[j] * rank[j]
				}
			}
			next[i] = (1-damping)*teleport[i] + damping*(s+dangling*teleport[i])
		}
		rank, next = next, rank
	}
	for i := range cands {
		cands[i].rank = rank[i]
		if cands[i].question && !(cands[i].customer && i < 2) {
			cands[i].rank /= 2
		}
	}
}

// cosine is the cosine similarity of two candidates' TF-IDF vectors.
func cosine(a, b *summaryCandidate) float64 {
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	dot := 0.0
	i, j := 0, 0
	for i < len(a.terms) && j < len(b.terms) {
		switch {
		case a.terms[i].term < b.terms[j].term:
			i++
		case a.terms[i].term > b.terms[j].term:
			j++
		default:
			dot += a.terms[i].w * b.terms[j].w
			i++
			j++
		}
	}
	return dot / (a.norm * b.norm)
}

// stem strips one common English inflection ("refunds" → "refund";
// "charge", "charged", "charging" → "charg"), enough to relate sentences.
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s", "e"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}
