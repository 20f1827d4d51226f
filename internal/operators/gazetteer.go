package operators

import "strings"

// Small gazetteers for the local operators (names, places, calendar words),
// lower-cased. They are deliberately short: enough for call-centre speech,
// with capitalisation doing the rest.

func wordSet(lists ...string) map[string]bool {
	m := make(map[string]bool)
	for _, l := range lists {
		for _, w := range strings.Fields(l) {
			m[w] = true
		}
	}
	return m
}

// firstNames are common US first names. Those that are also ordinary words
// are in ambiguousNames and count only when capitalised mid-sentence.
var firstNames = wordSet(`
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah
ethan jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence
jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent
mason roy ralph bobby russell bradley philip eugene louis harry howard carlos luis liam lucas oliver
owen caleb isaac luke evan connor aiden mike tom jim dave steve chris matt dan nick tony ben sam alex
rob bob greg ken jeff tim ron ed jon josh andy pete rick ricky carlos miguel diego pedro javier ahmed
mohammed omar ali raj rahul arjun wei li chen hiroshi kenji
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra
margaret ashley kimberly emily donna michelle carol amanda melissa deborah stephanie rebecca sharon
laura cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha katherine christine
helen debra rachel carolyn janet maria catherine heather diane olivia julie joyce victoria ruth
virginia lauren kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha
madison teresa gloria sara janice kathryn abigail sophia frances judy alice isabella julia denise
amber danielle marilyn beverly charlotte natalie theresa diana brittany doris kayla alexis lori
tiffany jasmine ava mia chloe ella grace lily zoe nora leah priya aisha fatima mei yuki sofia lucia
carmen rosa ana elena isabel camila valentina jenny kate katie beth liz jess sue pat meg kim jen
mark will bill may june april rose hope joy faith dawn summer frank ray art grant
`)

// ambiguousNames are first names that are also common words.
var ambiguousNames = wordSet(`mark will bill may june april rose grace hope joy faith dawn summer frank ray art
grant amber pat sue`)

// titles precede a person's name ("Ms. Lopez").
var titles = wordSet(`mr mrs ms miss dr doctor mister sir madam professor officer`)

// commonWords are frequent English words that are never names even when a
// transcript capitalises them.
var commonWords = wordSet(`
i a an the and or but if so of to in on at by for with from about into over after before under
again further then once here there when where why how all any both each few more most other some
such no nor not only own same than too very can will just should now is am are was were be been
being have has had having do does did doing would could might must shall may yes yeah yep no nope
okay ok alright right sure well oh uh um hmm hello hi hey thanks thank please sorry welcome bye
goodbye good great fine perfect awesome excellent wonderful absolutely exactly definitely actually
really also maybe perhaps you your yours he him his she her it its we us our they them their this
that these those what which who whom my me mine let lets got get go going gonna want need like
know think see look call calling called customer service support team department account order
card bank credit debit payment bill billing number phone email address name password manager
supervisor agent representative today tomorrow yesterday morning afternoon evening night week month
year day time minute minutes hour hours please one two three four five six seven eight nine ten
first second third last next new old okay mhm wow gosh god jesus christ oops ugh ah hmm er
english spanish french german chinese internet wifi tv cable mobile app website online
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december
`)

// Calendar words.
var (
	monthNames   = wordSet(`january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec`)
	weekdayNames = wordSet(`monday tuesday wednesday thursday friday saturday sunday`)
)

// placeWords are US states, large cities and countries (single words;
// multi-word places are in placePhrases).
var placeWords = wordSet(`
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
vermont virginia washington wisconsin wyoming
chicago houston phoenix philadelphia dallas austin jacksonville columbus charlotte indianapolis seattle
denver boston detroit nashville portland memphis louisville baltimore milwaukee albuquerque tucson
fresno sacramento atlanta miami oakland minneapolis tulsa cleveland wichita orlando tampa pittsburgh
cincinnati honolulu anchorage omaha raleigh richmond newark brooklyn manhattan queens london paris
berlin madrid rome toronto vancouver montreal sydney melbourne dublin mumbai delhi tokyo beijing
shanghai mexico canada usa america england britain france germany spain italy ireland india china
japan brazil argentina colombia peru chile australia philippines vietnam korea nigeria kenya egypt
israel russia ukraine poland netherlands sweden norway denmark portugal switzerland austria belgium
greece turkey pakistan bangladesh
`)

// placePhrases are multi-word places, as lower-case word sequences.
var placePhrases = []string{"new york", "new jersey", "new mexico", "new hampshire", "north carolina", "south carolina",
	"north dakota", "south dakota", "west virginia", "rhode island", "los angeles", "san francisco", "san diego",
	"san antonio", "san jose", "las vegas", "fort worth", "el paso", "oklahoma city", "kansas city", "salt lake city",
	"new orleans", "st louis", "saint louis", "united states", "united kingdom", "puerto rico", "hong kong",
	"south africa", "new zealand", "washington dc", "district of columbia"}

// orgSuffixes end organisation names ("Acme Bank", "Globex Inc").
var orgSuffixes = wordSet(`inc incorporated corp corporation co company llc ltd limited group bank airlines airways
insurance telecom wireless communications energy electric utilities health healthcare hospital clinic
university college school services solutions systems technologies tech labs partners associates
holdings financial credit union motors pharmacy foundation agency`)

// knownOrgs are well-known organisations mentioned in calls.
var knownOrgs = wordSet(`amazon google apple microsoft facebook meta netflix paypal venmo zelle visa mastercard
amex fedex ups usps dhl verizon comcast xfinity spectrum walmart target costco ebay uber lyft airbnb
chase citibank citi wellsfargo geico progressive allstate medicare medicaid irs hulu spotify tesla
delta expedia samsung twilio`)

// knownOrgPhrases are multi-word well-known organisations.
var knownOrgPhrases = []string{"american express", "bank of america", "wells fargo", "capital one", "t mobile",
	"at t", "home depot", "best buy", "state farm", "social security administration", "united airlines",
	"american airlines", "southwest airlines", "us bank", "blue cross"}
