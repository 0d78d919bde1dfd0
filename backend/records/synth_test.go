package records_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"

	"outpost/backend/ehr"
	"outpost/backend/phonetic"
)

// A deterministic synthetic clinic. Every patient is made up: family and
// given names are drawn independently from lists of common names of many
// origins (or built from syllables), so no record describes a real person.
// The same seed always yields the same patients in the same order.

// synthFamilies are family names; some have several words, accents or
// apostrophes, as registers hold them.
var synthFamilies = []string{
	// Southern, East and West African
	"Banda", "Phiri", "Mwale", "Tembo", "Zulu", "Dlamini", "Ndlovu", "Moyo", "Dube", "Nkosi",
	"Mthembu", "Khumalo", "Sithole", "Mahlangu", "Chikwanha", "Mutasa", "Chirwa", "Kamanga", "Nyirenda", "Gondwe",
	"Mhango", "Msiska", "Kumwenda", "Chisale", "Kachingwe", "Mbewe", "Lungu", "Mulenga", "Bwalya", "Chanda",
	"Mwansa", "Mensah", "Osei", "Owusu", "Boateng", "Asante", "Appiah", "Agyeman", "Ofori", "Darko",
	"Quaye", "Addo", "Okafor", "Okonkwo", "Nwosu", "Eze", "Obi", "Adeyemi", "Adebayo", "Ogunleye",
	"Balogun", "Bello", "Abubakar", "Musa", "Danjuma", "Diallo", "Traoré", "Keïta", "Coulibaly", "Koné",
	"Touré", "Sow", "Ba", "Ndiaye", "Diop", "Fall", "Sarr", "Kamara", "Sesay", "Conteh",
	"Koroma", "Bangura", "Kariuki", "Mwangi", "Otieno", "Odhiambo", "Ochieng", "Kamau", "Njoroge", "Mutua",
	"Kiprop", "Cheruiyot", "Mugisha", "Nsubuga", "Okello", "Opio", "Byaruhanga", "Tumusiime", "Haile", "Tesfaye",
	"Bekele", "Girma", "Alemu", "Abebe", "Mekonnen", "Wolde", "N'Diaye", "Habimana", "Uwimana", "Niyonzima",
	"Mbatha", "Ngcobo", "Nxumalo", "Mokoena", "Molefe", "Masilo", "Tshabalala", "Mabuza",
	// South Asian
	"Patel", "Shah", "Sharma", "Verma", "Gupta", "Singh", "Kaur", "Kumar", "Reddy", "Rao",
	"Nair", "Menon", "Iyer", "Pillai", "Das", "Bose", "Chatterjee", "Banerjee", "Mukherjee", "Ghosh",
	"Chowdhury", "Rahman", "Hossain", "Islam", "Siddiqui", "Qureshi", "Khan", "Malik", "Baig", "Joshi",
	"Desai", "Mehta", "Kulkarni", "Deshpande", "Jain", "Agarwal", "Bhatt", "Pandey", "Mishra", "Tiwari",
	"Yadav", "Perera", "Jayasuriya", "Wickramasinghe", "Thapa", "Gurung", "Shrestha",
	// European
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Koch",
	"Richter", "Wolf", "Schröder", "Neumann", "Zimmermann", "Krüger", "Hoffmann", "Smith", "Jones", "Williams",
	"Brown", "Taylor", "Davies", "Evans", "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Thompson",
	"O'Neil", "O'Brien", "O'Connor", "O'Sullivan", "McCarthy", "Murphy", "Kelly", "Byrne", "Ryan", "Doyle",
	"Dubois", "Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fournier", "Mercier",
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "D'Angelo",
	"Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Lewandowski", "Novák", "Dvořák", "Horváth", "Nagy", "Kovács",
	"Szabó", "Popescu", "Ionescu", "Petrov", "Jensen", "Nielsen", "Hansen", "Larsen", "Johansson", "Nilsson",
	"Lindqvist", "Virtanen", "Korhonen", "Janssen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Peeters",
	// Latin American and Iberian
	"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Díaz",
	"Hernández", "Álvarez", "Jiménez", "Moreno", "Muñoz", "Romero", "Ruiz", "Vargas", "Castillo", "Ramírez",
	"Torres", "Flores", "Rivera", "Morales", "Ortiz", "Gutiérrez", "Chávez", "Mendoza", "Rojas", "Herrera",
	"Medina", "Aguilar", "Vásquez", "Castro", "Guzmán", "Salazar", "Quispe", "Mamani", "Huamán", "Condori",
	"da Silva", "dos Santos", "Oliveira", "Souza", "Pereira", "Carvalho", "Gonçalves", "Araújo", "Ribeiro", "Almeida",
	"Nascimento",
	// Arabic
	"Haddad", "Khoury", "Nasser", "Hassan", "Hussein", "Ali", "Mohammed", "Ibrahim", "Mahmoud", "Mustafa",
	"Abdallah", "Saleh", "Al-Masri", "Al-Amin", "El-Sayed", "Farouk", "Mansour", "Qasim", "Yousef", "Hamdan",
	"Khalil", "Aziz", "Rashid", "Sabbagh", "Darwish", "Suleiman", "Awad", "Othman", "Zaki", "Abu Khalil",
	"El Amrani", "Ben Youssef",
	// East and South-East Asian
	"Nguyen", "Tran", "Le", "Pham", "Wang", "Li", "Zhang", "Chen", "Kim", "Park",
	"Tanaka", "Santos", "Reyes", "Cruz",
}

// synthFemale and synthMale are given names; some have two words.
var synthFemale = []string{
	"Ama", "Akosua", "Abena", "Efua", "Adwoa", "Yaa", "Esi", "Afua", "Chisomo", "Chikondi",
	"Thandiwe", "Nomsa", "Zanele", "Lindiwe", "Nokuthula", "Tiyamike", "Tadala", "Wanjiru", "Achieng", "Nyambura",
	"Wambui", "Akinyi", "Amina", "Fatima", "Aisha", "Zainab", "Hauwa", "Halima", "Mariam", "Khadija",
	"Ngozi", "Chiamaka", "Adaeze", "Nneka", "Ifeoma", "Folake", "Funmilayo", "Yetunde", "Aminata", "Fatoumata",
	"Awa", "Mariama", "Binta", "Selam", "Hiwot", "Meseret", "Tigist", "Almaz", "Priya", "Ananya",
	"Lakshmi", "Deepa", "Kavya", "Sunita", "Anjali", "Pooja", "Meera", "Nisha", "Farzana", "Nasrin",
	"Shirin", "Ayesha", "Rukhsana", "Sita", "Gita", "Maria", "Anna", "Sophie", "Emma", "Hannah",
	"Lena", "Greta", "Ingrid", "Astrid", "Siobhan", "Aoife", "Niamh", "Mary", "Margaret", "Catherine",
	"Elizabeth", "Sarah", "Grace", "Joy", "Mercy", "Patience", "Blessing", "Precious", "Esther", "Ruth",
	"Rebecca", "Chloé", "Léa", "Zoé", "Amélie", "Hélène", "Giulia", "Francesca", "Chiara", "Małgorzata",
	"Agnieszka", "Zuzana", "Ana", "María José", "Lucía", "Sofía", "Valentina", "Camila", "Daniela", "Isabel",
	"Guadalupe", "Ximena", "Fernanda", "Luana", "Joana", "Beatriz", "Layla", "Yasmin", "Nour", "Rania",
	"Salma", "Huda", "Leila", "Samira", "Mary Grace", "Anne-Marie", "Marie Claire", "Nur Aisha", "Thi Lan", "Mei Ling",
}

var synthMale = []string{
	"Kwame", "Kofi", "Kwabena", "Kwaku", "Yaw", "Kojo", "Kwesi", "Chimwemwe", "Mphatso", "Limbani",
	"Kondwani", "Sipho", "Themba", "Bongani", "Mandla", "Sibusiso", "Tawanda", "Tendai", "Farai", "Tatenda",
	"Kamau", "Otieno", "Kipchoge", "Juma", "Baraka", "Musa", "Ibrahim", "Abdul Rahman", "Abdullahi", "Usman",
	"Emeka", "Chinedu", "Obinna", "Ikenna", "Tunde", "Babatunde", "Oluwaseun", "Segun", "Mamadou", "Moussa",
	"Ousmane", "Seydou", "Bakary", "Amadou", "Abdoulaye", "Dawit", "Yohannes", "Getachew", "Rahul", "Arjun",
	"Vikram", "Sanjay", "Ravi", "Anil", "Suresh", "Rajesh", "Amit", "Karthik", "Imran", "Tariq",
	"Farhan", "Asif", "Bilal", "Hamza", "Omar", "Ahmed", "Youssef", "Khalid", "Karim", "Samir",
	"Walid", "Tarek", "Jamal", "Nabil", "Mahmoud", "Hussein", "Hans", "Klaus", "Jürgen", "Lukas",
	"Jonas", "Felix", "Matthias", "Stefan", "Lars", "Sven", "Björn", "Mikael", "Seán", "Patrick",
	"Liam", "Conor", "Declan", "John", "James", "David", "Peter", "Paul", "Michael", "Joseph",
	"Daniel", "Samuel", "Emmanuel", "Godfrey", "Innocent", "Gift", "Pierre", "Jean-Baptiste", "Jean Pierre", "François",
	"Léon", "Marco", "Giuseppe", "Luca", "Matteo", "Piotr", "Krzysztof", "Tomáš", "José", "Juan Carlos",
	"Luis", "Carlos", "Jorge", "Andrés", "Alejandro", "Diego", "Sebastián", "Mateo", "João", "Tiago",
	"Gonçalo", "Van Minh", "Wei", "Min-jun",
}

// synthSyllables build family names that are in no list, for the long
// tail of rare names every real register has.
var synthSyllables = []string{
	"ka", "la", "mbe", "nde", "chi", "wa", "mu", "si", "to", "ngo", "bu", "ya", "ri", "ze", "pho", "kwe",
	"lu", "ni", "ta", "mo", "ga", "sa", "he", "ru", "na", "ti", "ko", "ba", "de", "fu", "so", "ju",
	"ma", "le", "vi", "tsa", "nya", "dza", "go", "pe",
}

var synthEndings = []string{"", "", "", "a", "e", "i", "o", "wa", "ni", "nga", "ra"}

// synthVillages are invented place names.
var synthVillages = []string{
	"Mbuyuni", "Kasiya", "Chilanga", "Ntchenga", "Lusewa", "Mkulumadzi", "Dzaleka", "Nkhoma", "Chitala", "Mponda",
	"Kafulu", "Bwengu", "Lupembe", "Chisenga", "Matope", "Nsanama", "Kaloleni", "Mwembe", "Tandala", "Ruvuma",
	"Kijiweni", "Malindiri", "Ngoma Hill", "Kasese West", "Bukavu Road", "Sabon Gari", "Tudun Wada", "Ayigya", "Ofankor", "Kpalime Road",
	"Djibelor", "Ndoffane", "Kolda Nord", "Bakau Nova", "Santa Rosa de Lima", "San José del Río", "Vila Nova", "Pueblo Nuevo", "Los Álamos", "Chacarita",
	"Rampur Kalan", "Nayagaon", "Dharampur", "Shantinagar", "Char Kukri", "Baniachong", "Al-Nahda", "Ain Zaara", "Deir Hanna", "Wadi Sir",
	"St. Brigid's", "Ballykeel", "Neudorf", "Mühlbach", "Marktheim", "Villeneuve", "Castelnuovo", "Nowa Wieś", "Dolní Lhota", "Kisfalu",
}

var (
	synthPhonePrefixes = []string{"+265 99", "+265 88", "+233 24", "+233 55", "+254 72", "+254 11", "+234 803", "+91 98", "+880 17", "+52 55", "+55 11", "+49 151", "0"}
	synthRelations     = []string{"mother", "father", "spouse", "sister", "brother", "daughter", "son", "aunt", "uncle", "guardian", "grandmother", "neighbour"}
	synthStreets       = []string{"near the market", "behind the school", "by the borehole", "opposite the church", "next to the mosque", "main road", "near the clinic"}
)

// synth makes synthetic patients, deterministically from its seed.
type synth struct {
	r         *rand.Rand
	nationals int // national ids issued, for unique numbers
}

func newSynth(seed uint64) *synth {
	return &synth{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// pick returns an element of list, biased towards the front so that some
// names are common and many are rare, as in a real register.
func (g *synth) pick(list []string) string {
	u := g.r.Float64()
	return list[int(u*u*float64(len(list)))]
}

func (g *synth) chance(p float64) bool { return g.r.Float64() < p }

// syllableName builds a family name from two or three syllables.
func (g *synth) syllableName() string {
	var b strings.Builder
	for range 2 + g.r.IntN(2) {
		b.WriteString(synthSyllables[g.r.IntN(len(synthSyllables))])
	}
	b.WriteString(synthEndings[g.r.IntN(len(synthEndings))])
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *synth) family() string {
	if g.chance(0.25) {
		return g.syllableName()
	}
	return g.pick(synthFamilies)
}

func (g *synth) given(female bool) string {
	list := synthMale
	if female {
		list = synthFemale
	}
	name := g.pick(list)
	if g.chance(0.12) { // a second given name
		if second := list[g.r.IntN(len(list))]; second != name {
			name += " " + second
		}
	}
	return name
}

func (g *synth) phone() string {
	p := synthPhonePrefixes[g.r.IntN(len(synthPhonePrefixes))]
	if p == "0" {
		return fmt.Sprintf("0%d%d %03d %04d", 7+g.r.IntN(3), g.r.IntN(10), g.r.IntN(1000), g.r.IntN(10000))
	}
	return fmt.Sprintf("%s %03d %04d", p, g.r.IntN(1000), g.r.IntN(10000))
}

// Patient returns the next synthetic patient.
func (g *synth) Patient() ehr.Patient {
	female := g.chance(0.52)
	p := ehr.Patient{
		Family:  g.family(),
		Given:   g.given(female),
		Sex:     "male",
		Village: g.pick(synthVillages),
	}
	if female {
		p.Sex = "female"
	}
	switch u := g.r.Float64(); {
	case u < 0.003:
		p.Sex = "unknown"
	case u < 0.005:
		p.Sex = "other"
	}
	if g.chance(0.05) { // a former family name or a nickname
		if g.chance(0.5) {
			p.Other = g.family()
		} else {
			p.Other = g.given(female)
		}
	}
	// Ages skew young, as in a rural clinic; births from 1930 to 2025.
	u := g.r.Float64()
	year := 2025 - int(u*u*95.999)
	if g.chance(0.10) {
		p.BirthDate, p.BirthEstimated = fmt.Sprint(year), true
	} else {
		month := time.Month(1 + g.r.IntN(12))
		days := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
		p.BirthDate = time.Date(year, month, 1+g.r.IntN(days), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	if g.chance(0.30) {
		// 7919 is prime to 10^6, so the first million numbers are distinct.
		p.NationalID = fmt.Sprintf("NI-%06d", (g.nationals*7919+104729)%1000000)
		g.nationals++
	}
	if g.chance(0.75) {
		p.Phone = g.phone()
	}
	if g.chance(0.20) {
		p.Address = fmt.Sprintf("House %d, %s", 1+g.r.IntN(400), synthStreets[g.r.IntN(len(synthStreets))])
	}
	if g.chance(0.40) {
		p.KinName = g.given(g.chance(0.5)) + " " + p.Family
		p.KinRelation = synthRelations[g.r.IntN(len(synthRelations))]
		if g.chance(0.5) {
			p.KinPhone = g.phone()
		}
	}
	return p
}

// Patients returns the next n synthetic patients.
func (g *synth) Patients(n int) []ehr.Patient {
	out := make([]ehr.Patient, n)
	for i := range out {
		out[i] = g.Patient()
	}
	return out
}

// synthWord returns one word of a listed name (family or given), as a
// clerk would type it for a search.
func synthWord(r *rand.Rand) string {
	var name string
	switch u := r.Float64(); {
	case u < 0.6:
		name = synthFamilies[r.IntN(len(synthFamilies))]
	case u < 0.8:
		name = synthFemale[r.IntN(len(synthFemale))]
	default:
		name = synthMale[r.IntN(len(synthMale))]
	}
	words := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' })
	return words[r.IntN(len(words))]
}

// prefixQuery returns the first 2 to 6 letters of a listed name, typed
// either as listed (capitals, accents, apostrophes) or folded to plain
// lower-case ASCII.
func prefixQuery(r *rand.Rand) string {
	w := synthWord(r)
	if r.IntN(2) == 0 {
		w = phonetic.Fold(w)
	}
	want := 2 + r.IntN(5)
	letters := 0
	for i, c := range w {
		if unicode.IsLetter(c) {
			if letters == want {
				return w[:i]
			}
			letters++
		}
	}
	return w
}

// misspell returns a misspelling of a whole listed name word, folded to
// lower-case ASCII, and the word it misspells. The misspelling differs
// from the word and has at least three letters.
func misspell(r *rand.Rand) (typo, word string) {
	for {
		word = phonetic.Fold(synthWord(r))
		word = strings.ReplaceAll(word, " ", "")
		if len(word) < 4 {
			continue
		}
		typo = misspellWord(r, word)
		if typo != word && len(typo) >= 3 {
			return typo, word
		}
	}
}

// misspellRules are spellings clerks swap for one another.
var misspellRules = [][2]string{
	{"ph", "f"}, {"f", "ph"}, {"c", "k"}, {"k", "c"}, {"y", "i"}, {"i", "y"}, {"ou", "u"}, {"oo", "u"},
	{"ee", "i"}, {"th", "t"}, {"w", "v"}, {"v", "w"}, {"sh", "sch"}, {"ll", "l"}, {"ss", "s"}, {"tt", "t"},
	{"j", "dj"}, {"dj", "j"}, {"ie", "i"}, {"ai", "ay"}, {"ch", "sh"}, {"mm", "m"}, {"ck", "k"}, {"q", "k"},
}

func misspellWord(r *rand.Rand, w string) string {
	b := []byte(w)
	i := 1 + r.IntN(len(b)-1) // keep the first letter, as most typos do
	switch r.IntN(4) {
	case 0: // drop a letter
		return string(b[:i]) + string(b[i+1:])
	case 1: // double a letter
		return string(b[:i+1]) + string(b[i:])
	case 2: // swap two letters
		if i == len(b)-1 {
			i--
		}
		if i == 0 {
			i = 1
		}
		if i+1 < len(b) {
			b[i], b[i+1] = b[i+1], b[i]
		}
		return string(b)
	default: // a spelling rule that applies
		start := r.IntN(len(misspellRules))
		for k := range misspellRules {
			rule := misspellRules[(start+k)%len(misspellRules)]
			if strings.Contains(w, rule[0]) {
				return strings.Replace(w, rule[0], rule[1], 1)
			}
		}
		return string(b[:i]) + string(b[i+1:])
	}
}

func TestSynthIsDeterministicAndValid(t *testing.T) {
	const n = 5000
	a, b := newSynth(7).Patients(n), newSynth(7).Patients(n)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("patient %d differs between two runs with one seed:\n%+v\n%+v", i, a[i], b[i])
		}
	}
	if other := newSynth(8).Patients(10); other[0] == a[0] && other[1] == a[1] {
		t.Error("seeds 7 and 8 make the same patients")
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var estimated, national, accented, apostrophe, multi int
	ids := map[string]bool{}
	for i, p := range a {
		back, err := p.Input(now).Patient(now)
		if err != nil {
			t.Fatalf("patient %d %+v is not valid: %v", i, p, err)
		}
		if back != p {
			t.Fatalf("patient %d does not survive the form:\n%+v\n%+v", i, p, back)
		}
		if y := p.BirthYear(); y < 1930 || y > 2025 {
			t.Errorf("patient %d born %s", i, p.BirthDate)
		}
		if p.BirthEstimated {
			estimated++
		}
		if p.NationalID != "" {
			national++
			if ids[p.NationalID] {
				t.Errorf("national id %s issued twice", p.NationalID)
			}
			ids[p.NationalID] = true
		}
		name := p.Family + " " + p.Given
		if strings.ContainsFunc(name, func(r rune) bool { return r > unicode.MaxASCII }) {
			accented++
		}
		if strings.Contains(name, "'") {
			apostrophe++
		}
		if strings.Contains(p.Given, " ") {
			multi++
		}
	}
	share := func(k int) float64 { return float64(k) / n }
	if s := share(estimated); s < 0.08 || s > 0.12 {
		t.Errorf("estimated birth dates: %.3f, want about 0.10", s)
	}
	if s := share(national); s < 0.27 || s > 0.33 {
		t.Errorf("national ids: %.3f, want about 0.30", s)
	}
	if accented == 0 || apostrophe == 0 || multi == 0 {
		t.Errorf("accented %d, apostrophes %d, multi-word given names %d: want some of each", accented, apostrophe, multi)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		q := prefixQuery(r)
		if n := len([]rune(phonetic.Fold(q))); n < 1 || n > 6 {
			t.Errorf("prefix query %q", q)
		}
		typo, word := misspell(r)
		if typo == word || len(typo) < 3 {
			t.Errorf("misspelling %q of %q", typo, word)
		}
	}
}
