package pii

import "strings"

// firstNameList holds frequent first names in the US and other
// English-speaking and Spanish-speaking countries (from public name
// frequency tables; typed in by hand). Words that are more often something
// else when capitalised — months (April, May, June, August), modal verbs
// (Will), virtues (Hope, Faith, Joy) — are left out on purpose.
const firstNameList = `
aaron abigail adam adrian adriana ahmed aidan aiden alan albert alberto alejandra alejandro
alex alexa alexander alexandra alexis alfredo ali alice alicia alison allison alma alyssa
amanda amber amelia amir amy ana andrea andres andrew andy angel angela angelica angie
anita ann anna anne annie anthony antonio ariana arthur ashley audrey austin ava
barbara beatriz ben benjamin bernard beth betty beverly bianca billy blake bob bobby
bonnie brad bradley brandon brenda brian brianna brittany brooke bruce bryan
caleb camila cameron carl carla carlos carmen carol carolina caroline carrie casey cassandra
catherine cecilia charles charlie charlotte chelsea cheryl chloe chris christian christina
christine christopher cindy claire clara claudia cody colin connor craig crystal cynthia
daisy dale dan dana daniel daniela danielle danny darlene darren dave david dawn dean
deborah debra denise dennis derek destiny diana diane diego dolores dominic donald donna
doris dorothy douglas dylan
earl eduardo edward edwin eileen elaine elena eli elijah elizabeth ella ellen emily emma
enrique eric erica erik erin ernest esther ethan eugene eva evan evelyn
felipe fernando frances francisco frank fred frederick gabriel gabriela gabriella gary gavin
george gerald gina glenn gloria grace greg gregory guadalupe guillermo gustavo
hailey haley hannah harold harry hassan heather hector helen henry holly howard hugo
ian irene isaac isabel isabella isaiah ivan
jack jackie jacob jacqueline jaime jake james jamie jane janet janice jared jasmine jason
javier jayden jean jeff jeffrey jennifer jenny jeremy jerry jesse jessica jesus jill jim
jimmy joan joanne joe joel john johnny jonathan jordan jorge jose josé joseph josephine
joshua joyce juan juana judith judy julia julian juliana julie julio justin
karen karina katherine kathleen kathryn kathy katie kayla keith kelly ken kenneth kevin
kim kimberly kristen kristin kyle
larry laura lauren lawrence leah lee leonardo leslie liam lillian lily linda lisa logan
lois lori louis lucas lucia lucía luis luz lydia lynn
madison manuel marco marcos margaret maria maría marie marilyn mario marisol mark marta
martha martin marvin mary mason matthew megan melanie melissa mercedes mia michael
michelle miguel mike mildred miranda mohamed mohammed molly monica morgan muhammad
nancy natalia natalie nathan nathaniel nicholas nicole noah nora norma
olivia omar oscar pablo pamela patricia patrick paul paula pedro peggy peter philip
phillip phyllis priya
rachel rafael ralph ramon ramón randy raquel raul raúl ray raymond rebecca regina renee
ricardo richard rick ricky rita robert roberto robin rocio rodrigo roger ronald rosa rose
rosemary ruby russell ruth ryan
sabrina sally samantha samuel sandra santiago sara sarah scott sean sebastian sergio
shannon sharon shawn sheila shirley sofia sofía sonia sophia stacy stanley stephanie
stephen steve steven susan sydney
tammy tanya tara teresa terry theresa thomas tiffany timothy tina todd tom tommy tony
tracy travis tyler valentina valerie vanessa veronica vicente victor victoria vincent
virginia walter wanda wayne wei wendy william xavier yolanda yvonne zachary zoe
`

// stopWordList holds capitalised words that are not names: function words,
// discourse markers, months and weekdays, company, place and street words,
// and call-centre vocabulary. A word here never starts or continues a name.
const stopWordList = `
a about above after again all also am an and any are as at be because been before being
but by can could did do does for from had has have he her here hers him his how i if in
into is it its just let like me more most my no not now of off on once only or other our
out over please same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while
who why will with would yes yeah yep nope you your ok okay sure thanks thank hi hello hey
dear sorry well um uh oh hmm right great perfect good fine alright sir madam maam
speaking here calling again today tomorrow yesterday morning afternoon evening night
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday
christmas easter thanksgiving halloween new year
customer customers service services support team department dept office center centre
help desk billing sales account accounts card cards bank banking credit debit visa
mastercard amex express discover maestro paypal insurance airlines airline hospital
clinic university college school academy institute foundation church
inc llc ltd corp co company corporation group solutions systems technologies technology
partners associates holdings industries international global national american
plumbing electric auto motors pharmacy store stores shop market mart
street st avenue ave road rd boulevard blvd lane ln drive dr court ct way place pl
terrace circle loop parkway highway square trail plaza alley
beach city county park lake river valley hills hill heights springs island bay
mountain canyon falls memorial airport station mall harbor port bridge tower building
north south east west central downtown
apt apartment suite unit floor room
email phone number mobile cell address zip code iban ssn dob social security
manager agent representative supervisor operator
english spanish french german
mr mrs ms miss dr prof
`

// Lookup sets built from the lists above (lower-case keys).
var (
	firstNames = wordSet(firstNameList)
	stopWords  = wordSet(stopWordList)
)

// wordSet builds a set from a whitespace-separated list.
func wordSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}
