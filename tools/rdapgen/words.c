/* Reference data for rdapgen: everything here is made up. Domains live under
 * .example/.test and retired IDN test TLDs, phone numbers use 555-style or
 * drama ranges, addresses are invented. */
#include "rdapgen.h"

#include <string.h>

#define WL(...)                                                                                    \
    {                                                                                              \
        (const char *const[]){__VA_ARGS__},                                                        \
            (unsigned)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))          \
    }

const wlist_t w_adj = WL("velvet", "quiet", "harbor", "copper", "amber", "silver", "hidden",
    "bright", "northern", "little", "golden", "crimson", "misty", "wild", "gentle", "rapid",
    "lunar", "solar", "cobalt", "maple", "cedar", "iron", "paper", "glass", "stone", "ember",
    "coral", "prairie", "canyon", "summit", "willow", "sunny", "blue", "green", "red", "old",
    "true", "happy", "clever", "brave");
const wlist_t w_noun = WL("compass", "books", "ceramics", "radio", "garden", "bakery", "studio",
    "works", "labs", "forge", "market", "bicycle", "kitchen", "atelier", "press", "supply",
    "clinic", "outfitters", "lantern", "orchard", "pottery", "games", "records", "travel",
    "tailors", "dental", "law", "design", "florist", "coffee", "brewing", "yoga", "farm",
    "cycles", "photo", "media", "cloud", "systems", "academy", "realty");
const wlist_t w_host_a = WL("kilnworks", "pebbleandpine", "brightline", "northwind", "deepwell",
    "stackyard", "lighthouse", "switchback", "greenleaf", "anvil");
const wlist_t w_host_b = WL("hosting", "dns", "net", "cloud", "servers", "networks");

const wlist_t w_idn_latin = WL("bücher", "café", "müller", "bäckerei", "señor", "pájaro",
    "øresund", "fiskeri", "zürich", "uhren", "crème", "brûlée", "köln", "møbler", "élan",
    "garçon", "forêt", "ñandú", "łódź", "kraków", "smørrebrød", "ångström", "déjà", "naïve",
    "jalapeño", "über", "göteborg", "façade", "château", "fröhlich");
const wlist_t w_idn_ja = WL("例え", "東京", "花屋", "寿司", "本屋", "桜", "山田商店", "富士",
    "京都", "茶屋", "ラーメン", "さくら");
const wlist_t w_idn_zh = WL("北京", "茶馆", "书店", "花园", "上海", "餐厅", "科技", "网络",
    "咖啡", "旅游");
const wlist_t w_idn_ko = WL("서울", "꽃집", "커피", "책방", "부산", "한글", "식당", "여행");
const wlist_t w_idn_ru = WL("пример", "магазин", "книги", "москва", "цветы", "кафе", "почта",
    "ремонт");
const wlist_t w_idn_el = WL("παράδειγμα", "βιβλία", "αθήνα", "καφέ", "ταξίδια", "θάλασσα");

/* Person names. Latin-script surnames are mostly invented compounds
 * (w_last_a + w_last_mid + w_last_b), sometimes a local surname or both
 * double-barrelled, so that names are nearly unique across a data set. */
const wlist_t w_first[L_COUNT] = {
    [L_EN] = WL("Corwin", "Imogen", "Tobias", "Esperanza", "Wendell", "Saoirse", "Ruairí",
                "Zoë", "Priya", "Ngozi", "Marcus", "Harriet", "Declan", "Aarav", "Olivia",
                "Jasper", "Niamh", "Theodore", "Beatrix", "Kwame", "Rosalind", "Ambrose",
                "Felicity", "Desmond", "Ottilie", "Rupert", "Marguerite", "Silas", "Henrietta",
                "Ezekiel", "Cordelia", "Barnaby", "Lavinia", "Thaddeus", "Philippa", "Ignatius",
                "Winifred", "Cormac", "Aoife", "Rohan"),
    [L_DE] = WL("Katharina", "Jörg", "Lukas", "Annika", "Jürgen", "Lena", "Maximilian",
                "Sönke", "Friederike", "Ulrich", "Henrike", "Bärbel", "Till", "Wiebke", "Joachim",
                "Ottilie", "Rüdiger", "Gesine", "Malte", "Lieselotte"),
    [L_FR] = WL("Chloé", "Anaïs", "Renée", "Théo", "Hélène", "François", "Gaël", "Maëlle",
                "Jérôme", "Céline", "Aurélien", "Bérénice", "Clément", "Éloïse", "Grégoire",
                "Inès", "Léonie", "Noël", "Séverine", "Timothée"),
    [L_IT] = WL("Lena", "Giulia", "Niccolò", "Matteo", "Chiara", "Lorenzo", "Francesca",
                "Salvatore", "Beatrice", "Giacomo", "Ludovica", "Raffaele", "Ginevra", "Tommaso",
                "Ilaria", "Gianluca", "Ottavia", "Pasquale", "Serena", "Vittorio"),
    [L_ES] = WL("José", "María", "Inés", "Álvaro", "Lucía", "Sofía", "Íñigo", "Begoña",
                "Joaquín", "Nuria", "Rocío", "Ramón", "Ainhoa", "Ignacio", "Almudena", "Sebastián",
                "Montserrat", "Adrián", "Pilar", "Gonzalo"),
    [L_NL] = WL("Daan", "Sanne", "Bram", "Femke", "Joris", "Lieke", "Sjoerd", "Marijke", "Floor",
                "Thijs", "Maartje", "Gijs", "Anouk", "Wouter", "Ilse", "Pieter"),
    [L_SV] = WL("Björn", "Åsa", "Linnéa", "Måns", "Ebba", "Göran", "Sigrid", "Olle", "Agnes",
                "Tor", "Elsa", "Hjalmar", "Maja", "Stellan", "Ingela", "Viggo"),
    [L_NO] = WL("Søren", "Ingrid", "Øystein", "Solveig", "Håkon", "Sigrún", "Bjørg", "Eirik",
                "Ragnhild", "Torbjørn", "Åse", "Gunnar", "Liv", "Sindre", "Marte", "Halvard"),
    [L_PL] = WL("Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Wojciech", "Zofia", "Jędrzej",
                "Bożena", "Grzegorz", "Jadwiga", "Mikołaj", "Urszula", "Przemysław", "Halina",
                "Stanisław", "Wiesława"),
    [L_PT] = WL("João", "Mateus", "Conceição", "Thiago", "Luíza", "Gonçalo", "Fernanda",
                "Sebastião", "Letícia", "Caio", "Beatriz", "Otávio", "Rafaela", "Vinícius",
                "Graça", "Marcelo"),
};
const wlist_t w_last[L_COUNT] = {
    [L_EN] = WL("Ashby", "Castellanos", "Wrenfield", "Quillfeather", "Achterberg",
                "Oyelowo-Friis", "Marchetti-Ruiz", "Halvorsen", "Brontë", "Ó Súilleabháin",
                "MacAonghusa", "Okonkwo", "Ramanathan", "Delacroix"),
    [L_DE] = WL("Müller", "Schröder", "Weiß", "Holmberg", "Köhler", "Großmann", "Bäcker",
                "Fuchs", "Lindemann", "Überall"),
    [L_FR] = WL("Lefèvre", "Dubois", "Moreau", "Girard", "Bérenger", "Lemaître", "Faure",
                "Rousseau", "Chevalier", "Mercier"),
    [L_IT] = WL("Marchetti", "Esposito", "Bianchi", "Colombo", "Ricci", "De Luca", "Gallo",
                "Fontana", "Mancini", "Lombardi"),
    [L_ES] = WL("Núñez", "García", "Velasco", "Muñoz", "Ibáñez", "Castaño", "Peña", "Ortiz",
                "Echeverría", "Domínguez"),
    [L_NL] = WL("Pietersen", "de Vries", "van Dijk", "Bakker", "Visser", "Janssen",
                "van den Berg", "Smits"),
    [L_SV] = WL("Lindqvist", "Åberg", "Sjöström", "Nyström", "Hellström", "Öberg", "Ekdahl"),
    [L_NO] = WL("Ødegård", "Haugen", "Bjørnstad", "Solberg", "Håland", "Sæther", "Løvås"),
    [L_PL] = WL("Wójcik", "Kowalczyk", "Zieliński", "Wiśniewska", "Dąbrowski", "Król",
                "Szymańska"),
    [L_PT] = WL("Gonçalves", "Araújo", "Conceição", "Simões", "Magalhães", "Brandão",
                "Falcão"),
};
const wlist_t w_last_a = WL("Ash", "Quill", "Wren", "Marsh", "Holm", "Thorn", "Lark", "Whit",
    "Stan", "Kirk", "Glen", "Brack", "Fen", "Dun", "Har", "Pen", "Ross", "Mer", "Cal", "Bel",
    "Oak", "Hazel", "Brook", "Stone", "Fair", "Black", "Gold", "Wood", "Moor", "Lang", "Crow",
    "Hol", "Bram", "Ald", "Ever", "Rad", "Sel", "Thal", "Wick", "Ing");
const wlist_t w_last_mid = WL("", "", "", "", "er", "en", "el", "ing", "s", "a", "ow", "le");
const wlist_t w_last_b = WL("by", "feather", "field", "berg", "sen", "ton", "wick", "more",
    "ley", "dale", "ford", "hurst", "mont", "stead", "worth", "rick", "ward", "vale", "man",
    "holt", "bridge", "combe", "shaw", "well", "win", "ridge", "mere", "gate", "croft", "thorpe",
    "bury", "low", "den", "cott", "wood", "hall");

/* CJK names: native and romanised lists share their index. Japanese and
 * Korean given names are built from two parts. */
const wlist_t w_ja_family = WL("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村",
    "小林", "加藤", "吉田", "山本", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水",
    "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "小川", "岡田");
const wlist_t w_ja_family_r = WL("Yamada", "Sato", "Suzuki", "Takahashi", "Tanaka", "Ito",
    "Watanabe", "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamamoto", "Sasaki", "Yamaguchi",
    "Matsumoto", "Inoue", "Kimura", "Hayashi", "Saito", "Shimizu", "Yamazaki", "Mori", "Ikeda",
    "Hashimoto", "Abe", "Ishikawa", "Yamashita", "Nakajima", "Ogawa", "Okada");
const wlist_t w_ja_given1 = WL("陽", "美", "健", "翔", "大", "結", "彩", "真", "悠", "光", "和",
    "千", "直", "奈", "春", "雅", "智", "友", "恵", "隆");
const wlist_t w_ja_given1_r = WL("Haru", "Mi", "Ken", "Sho", "Dai", "Yu", "Aya", "Ma", "Yu",
    "Hika", "Kazu", "Chi", "Nao", "Na", "Haru", "Masa", "Tomo", "Tomo", "Megu", "Taka");
const wlist_t w_ja_given2 = WL("子", "太", "菜", "輔", "斗", "香", "也", "希", "人", "美", "樹",
    "花", "郎", "介", "里", "実");
const wlist_t w_ja_given2_r = WL("ko", "ta", "na", "suke", "to", "ka", "ya", "ki", "to", "mi",
    "ki", "ka", "ro", "suke", "ri", "mi");
const wlist_t w_zh_family = WL("张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐",
    "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯",
    "于", "董", "萧");
const wlist_t w_zh_family_r = WL("Zhang", "Wang", "Li", "Zhao", "Chen", "Liu", "Yang", "Huang",
    "Zhou", "Wu", "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo", "Liang",
    "Song", "Zheng", "Xie", "Han", "Tang", "Feng", "Yu", "Dong", "Xiao");
const wlist_t w_zh_given = WL("伟", "芳", "秀", "英", "敏", "静", "强", "磊", "洋", "艳", "军",
    "杰", "娟", "涛", "明", "超", "霞", "平", "刚", "桂", "华", "建", "国", "文", "丽", "玲", "婷",
    "宇", "浩", "欣", "晨", "雪", "梅", "慧", "鹏", "辉", "林", "佳", "怡", "博");
const wlist_t w_zh_given_r = WL("wei", "fang", "xiu", "ying", "min", "jing", "qiang", "lei",
    "yang", "yan", "jun", "jie", "juan", "tao", "ming", "chao", "xia", "ping", "gang", "gui",
    "hua", "jian", "guo", "wen", "li", "ling", "ting", "yu", "hao", "xin", "chen", "xue", "mei",
    "hui", "peng", "hui", "lin", "jia", "yi", "bo");
const wlist_t w_ko_family = WL("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한",
    "오", "서", "신", "권", "황", "안", "송", "류", "홍");
const wlist_t w_ko_family_r = WL("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon",
    "Jang", "Lim", "Han", "Oh", "Seo", "Shin", "Kwon", "Hwang", "Ahn", "Song", "Ryu", "Hong");
const wlist_t w_ko_syl = WL("민", "서", "지", "하", "도", "준", "수", "예", "우", "현", "윤", "은",
    "연", "주", "진", "영", "성", "재", "희", "혜", "경", "태", "승", "유", "나", "채", "동", "상",
    "정", "아");
const wlist_t w_ko_syl_r = WL("min", "seo", "ji", "ha", "do", "jun", "su", "ye", "woo", "hyun",
    "yun", "eun", "yeon", "ju", "jin", "young", "seong", "jae", "hee", "hye", "kyung", "tae",
    "seung", "yu", "na", "chae", "dong", "sang", "jeong", "a");

/* Streets. Germanic languages compound a + b and put the number last;
 * Romance languages and Polish take a type (a) and a name (b). */
const wlist_t w_street_a[L_COUNT] = {
    [L_EN] = WL("Kiln", "Harbor", "Lantern", "Foundry", "Juniper", "Wharf", "Maple", "Cedar",
                "Willow", "Copper", "Repeater", "Compass", "Orchard", "Mill", "Chapel", "Heron",
                "Falcon", "Bramble", "Quarry", "Beacon", "Hollow", "Meadow", "Pine", "Birch"),
    [L_DE] = WL("Linden", "Birken", "Garten", "Mühlen", "Schiller", "Brunnen", "Kirch", "Rosen",
                "Eichen", "Buchen", "Wiesen", "Schloss", "Hafen", "Beispiel", "Muster", "Sonnen",
                "Tannen", "Ahorn", "Goethe", "Königs", "Fichten", "Bahnhof", "Markt", "Feld",
                "Kastanien", "Ulmen", "Heide", "Wald", "Dorf", "Lessing"),
    [L_FR] = WL("rue", "rue", "rue", "avenue", "boulevard", "place", "impasse", "allée", "chemin",
                "quai", "cours", "route"),
    [L_IT] = WL("Via", "Via", "Via", "Viale", "Piazza", "Corso", "Vicolo", "Largo"),
    [L_ES] = WL("Calle", "Calle", "Calle", "Avenida", "Paseo", "Plaza", "Camino", "Ronda",
                "Travesía"),
    [L_NL] = WL("Kerk", "Molen", "Heren", "Keizers", "Prinsen", "Linden", "Wilgen", "Haven",
                "Dijk", "Voorbeeld", "Zuider", "Noorder", "Berken", "Vondel", "Eiken", "Beuken",
                "Tuin", "Markt", "Sloot", "Brink"),
    [L_SV] = WL("Björk", "Sjö", "Kyrk", "Kvarn", "Ek", "Lind", "Hamn", "Strand", "Öster",
                "Väster", "Drottning", "Skol", "Gran", "Tall", "Ros", "Äng", "Berg", "Torg"),
    [L_NO] = WL("Brygge", "Fjord", "Kirke", "Skole", "Stor", "Sjø", "Bjørke", "Løvstakk",
                "Fjell", "Møllen", "Strand", "Torg", "Furu", "Gran", "Eike", "Vik", "Elve", "Åsen"),
    [L_PL] = WL("ul.", "ul.", "ul.", "al.", "pl.", "os."),
    [L_PT] = WL("Rua", "Rua", "Rua", "Avenida", "Travessa", "Alameda", "Praça", "Largo"),
    [L_JA] = WL("例示町", "桜丘町", "青葉台", "緑町", "本町", "中央", "旭町", "栄町", "若葉",
                "富士見町", "東町", "西町", "南町", "北町", "松原", "港町"),
    [L_ZH] = WL("示例路", "建国路", "中山路", "人民路", "和平街", "长安街", "解放路", "朝阳北路",
                "南京西路", "光明大道", "复兴路", "新华街", "滨江路", "东风路", "青年路", "学院路",
                "文化路", "胜利街", "友谊路", "春晓路"),
    [L_KO] = WL("예시로", "세종대로", "테헤란로", "한강대로", "을지로", "종로", "강남대로",
                "해운대로", "중앙로", "평화로", "시민로", "문화로", "대학로", "공원로", "역삼로",
                "광장로"),
};
const wlist_t w_street_b[L_COUNT] = {
    [L_EN] = WL("works Lane", " Street", " Road", " Avenue", "field Mews", " Row", "brook Drive",
                " Way", "gate Court", " Terrace", "wood Close", "stone Lane", "ridge Road",
                " Switchback", "haven Place", "moor Crescent"),
    [L_DE] = WL("straße", "weg", "allee", "gasse", "platz", "ring", "damm", "steig"),
    [L_FR] = WL("des Lilas", "du Moulin", "de la Gare", "Victor-Hugo", "des Écoles",
                "Saint-Honoré", "du Château", "de l'Église", "des Prés", "de la Forêt",
                "Émile-Zola", "des Clématites", "du Général-Leclerc", "de la Fontaine",
                "des Tilleuls", "Pasteur", "Jean-Jaurès", "de la République", "des Mimosas",
                "du Port", "des Vignes", "de Verdun", "Gambetta", "des Peupliers"),
    [L_IT] = WL("Garibaldi", "dei Mille", "della Libertà", "San Francesco", "del Pozzo",
                "dell'Esempio", "Cavour", "Mazzini", "dei Fiori", "XX Settembre", "Santa Lucia",
                "Umberto I", "Roma", "Dante Alighieri", "Verdi", "dei Tigli", "delle Rose",
                "Marconi", "Matteotti", "del Porto"),
    [L_ES] = WL("del Ejemplo", "de la Montaña", "Mayor", "de Alcalá", "de San José", "del Río",
                "de los Álamos", "de Núñez de Balboa", "de Cervantes", "de la Constitución",
                "del Pilar", "de la Peña", "de Goya", "del Sol", "de la Paz", "de Colón",
                "de Santiago", "de las Flores", "del Carmen", "de Velázquez"),
    [L_NL] = WL("straat", "gracht", "laan", "weg", "kade", "plein", "singel"),
    [L_SV] = WL("gatan", "vägen", "gränd", "stigen", "backen"),
    [L_NO] = WL("gata", "veien", "kaia", "bakken", "smauet"),
    [L_PL] = WL("Marszałkowska", "Ogrodowa", "Łąkowa", "Słoneczna", "Kwiatowa", "Źródlana",
                "Krótka", "Lipowa", "Żytnia", "Piękna", "Wiejska", "Długa", "Polna", "Leśna",
                "Szkolna", "Mickiewicza", "Kościuszki", "Sienkiewicza", "Jasna", "Różana"),
    [L_PT] = WL("das Flores", "São João", "da Consolação", "Augusta", "dos Andradas",
                "Barão de Itapetininga", "da Paz", "da Conceição", "Sete de Setembro", "dos Ipês",
                "Paulista", "das Palmeiras", "Tiradentes", "do Comércio", "Santa Luzia",
                "dos Girassóis", "XV de Novembro", "da Liberdade", "Bela Vista", "do Sol"),
    [L_JA] = WL(""), [L_ZH] = WL(""), [L_KO] = WL(""),
};
const wlist_t w_street_unit[L_COUNT] = {
    [L_EN] = WL("Suite %d", "Unit %d", "Apt %d", "Floor %d", "Flat %d", "Building %d"),
    [L_DE] = WL("%d. OG", "Hinterhaus %d", "Aufgang %d"),
    [L_FR] = WL("Bâtiment %d", "%de étage", "Appartement %d"),
    [L_IT] = WL("Scala %d", "Interno %d", "Piano %d"),
    [L_ES] = WL("%dº B", "Portal %d", "Escalera %d"),
    [L_NL] = WL("%d-hoog", "Unit %d"),
    [L_SV] = WL("Lgh %d", "%d tr"),
    [L_NO] = WL("Leilighet %d", "%d. etasje"),
    [L_PL] = WL("m. %d", "lok. %d"),
    [L_PT] = WL("Apto %d", "Sala %d", "Bloco %d"),
    [L_JA] = WL("例示ビル%d階", "%d号室"),
    [L_ZH] = WL("%d室", "%d号楼"),
    [L_KO] = WL("%d호", "%d층"),
};

const wlist_t w_org_b = WL("Studio", "Games", "Hosting Co-op", "Books", "Trading", "Consulting",
    "Foundation", "Bakery", "Logistics", "Software", "Design", "Holdings", "Club", "Partners",
    "Ceramics", "Media", "Outfitters", "Engineering", "Imports", "Labs");
const wlist_t w_org_ja = WL("商事", "工業", "電機", "物産", "製作所", "建設", "食品", "印刷",
    "運輸", "不動産");
const wlist_t w_org_zh = WL("科技", "贸易", "网络", "文化传媒", "实业", "电子", "餐饮管理",
    "信息技术", "物流", "咨询");
const wlist_t w_org_ko = WL("소프트", "테크", "물산", "건설", "식품", "미디어", "디자인", "무역");
const wlist_t w_titles = WL("Station Trustee", "Office Manager", "Head of IT",
    "Registry Integration Lead", "Managing Director", "Club Secretary", "Systems Administrator",
    "Owner");
const wlist_t w_mail_domains = WL("example.net", "example.com", "example.org", "mail.example",
    "post.example", "inbox.test");

#define C(cc, nm, tag, lang, pcc, area, nloc, postal, cities, regions, suffix, weight)            \
    {cc, nm, tag, lang, pcc, area, nloc, postal, cities, regions, suffix, weight}

const country_t countries[] = {
    C("US", "United States of America", "en", L_EN, "1", "555", 7, "99999",
      WL("Portland", "Asheville", "Greenville", "Taos", "Austin", "Boise", "Madison", "Savannah",
         "Tucson", "Burlington", "Los Angeles", "San Jose"),
      WL("ME", "NC", "SC", "NM", "TX", "ID", "WI", "GA", "AZ", "VT", "CA", "CA"), "LLC", 30),
    C("CA", "Canada", "en", L_EN, "1", "555", 7, "A9A 9A9",
      WL("Toronto", "Vancouver", "Montréal", "Halifax", "Calgary"),
      WL("ON", "BC", "QC", "NS", "AB"), "Inc.", 4),
    C("GB", "United Kingdom", "en", L_EN, "44", "20", 8, "AA9 9AA",
      WL("London", "Bristol", "Manchester", "Leeds", "Edinburgh", "Cardiff"),
      WL("", "", "", "West Yorkshire", "", ""), "Ltd", 8),
    C("IE", "Ireland", "en", L_EN, "353", "1", 7, "A99 A9A9",
      WL("Dublin", "Galway", "Cork", "Limerick"), WL("", "", "", ""), "Ltd", 3),
    C("DE", "Germany", "de", L_DE, "49", "30", 8, "99999",
      WL("Berlin", "Potsdam", "München", "Köln", "Hamburg", "Düsseldorf", "Leipzig"),
      WL("BE", "BB", "BY", "NW", "HH", "NW", "SN"), "GmbH", 8),
    C("FR", "France", "fr", L_FR, "33", "1", 8, "99999",
      WL("Paris", "Lyon", "Marseille", "Nantes", "Bordeaux", "Strasbourg"),
      WL("", "", "", "", "", ""), "SARL", 5),
    C("IT", "Italy", "it", L_IT, "39", "051", 7, "99999",
      WL("Bologna", "Milano", "Roma", "Torino", "Napoli", "Firenze"),
      WL("BO", "MI", "RM", "TO", "NA", "FI"), "S.r.l.", 4),
    C("ES", "Spain", "es", L_ES, "34", "91", 7, "99999",
      WL("Madrid", "Valencia", "Sevilla", "Barcelona", "Málaga", "A Coruña"),
      WL("M", "V", "SE", "B", "MA", "C"), "S.L.", 4),
    C("NL", "Netherlands", "nl", L_NL, "31", "20", 7, "9999 AA",
      WL("Amsterdam", "Utrecht", "Rotterdam", "Groningen", "Eindhoven"),
      WL("NH", "UT", "ZH", "GR", "NB"), "B.V.", 3),
    C("SE", "Sweden", "sv", L_SV, "46", "8", 8, "999 99",
      WL("Stockholm", "Göteborg", "Malmö", "Uppsala", "Umeå"), WL("AB", "O", "M", "C", "AC"),
      "AB", 2),
    C("NO", "Norway", "nb", L_NO, "47", "5", 7, "9999",
      WL("Bergen", "Oslo", "Trondheim", "Tromsø", "Stavanger"),
      WL("Vestland", "Oslo", "Trøndelag", "Troms", "Rogaland"), "AS", 2),
    C("PL", "Poland", "pl", L_PL, "48", "22", 7, "99-999",
      WL("Warszawa", "Kraków", "Łódź", "Gdańsk", "Wrocław"), WL("MZ", "MA", "LD", "PM", "DS"),
      "Sp. z o.o.", 3),
    C("BR", "Brazil", "pt-BR", L_PT, "55", "11", 8, "99999-999",
      WL("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Recife"),
      WL("SP", "RJ", "MG", "PR", "PE"), "Ltda.", 4),
    C("JP", "Japan", "ja", L_JA, "81", "3", 8, "999-9999",
      WL("港区", "渋谷区", "千代田区", "大阪市北区", "京都市中京区"),
      WL("東京都", "東京都", "東京都", "大阪府", "京都府"), "株式会社", 6),
    C("CN", "China", "zh-Hans", L_ZH, "86", "10", 8, "999999",
      WL("朝阳区", "海淀区", "浦东新区", "天河区", "西湖区"),
      WL("北京市", "北京市", "上海市", "广东省", "浙江省"), "有限公司", 5),
    C("KR", "Republic of Korea", "ko", L_KO, "82", "2", 8, "99999",
      WL("중구", "강남구", "해운대구", "수성구"),
      WL("서울특별시", "서울특별시", "부산광역시", "대구광역시"), "주식회사", 3),
    C("AU", "Australia", "en", L_EN, "61", "7", 8, "9999",
      WL("Brisbane", "Sydney", "Melbourne", "Perth", "Hobart"),
      WL("QLD", "NSW", "VIC", "WA", "TAS"), "Pty Ltd", 3),
    C("IN", "India", "en", L_EN, "91", "80", 8, "999999",
      WL("Bengaluru", "Mumbai", "Chennai", "Pune", "Hyderabad"),
      WL("KA", "MH", "TN", "MH", "TG"), "Pvt Ltd", 3),
};
const unsigned n_countries = sizeof countries / sizeof countries[0];

const registry_t registries[REG_COUNT] = {
    [REG_EXAMPLE] = {"example", "example", "EXAMPLE", "nic.example", 0},
    [REG_TEST] = {"test", "test", "TEST", "nic.test", 1},
    [REG_JA] = {"xn--zckzah", "テスト", "TESUTO", "nic.xn--zckzah", 0},
    [REG_ZH] = {"xn--0zwm56d", "测试", "CESHI", "nic.xn--0zwm56d", 0},
    [REG_KO] = {"xn--9t4b11yi5a", "테스트", "TESEUTEU", "nic.xn--9t4b11yi5a", 0},
    [REG_RU] = {"xn--80akhbyknj4f", "испытание", "ISPYTANIE", "nic.xn--80akhbyknj4f", 0},
    [REG_EL] = {"xn--jxalpdlp", "δοκιμή", "DOKIMI", "nic.xn--jxalpdlp", 0},
};

/* Each registrar has its own habits, as real RDAP servers do. */
const registrar_t registrars[] = {
    {"Harborlight Registrar, LLC", "harborlight-registrar", "US", 9990, 0, 0, 0},
    {"Meridian Lane Registrar Ltd", "meridian-lane", "IE", 9985, 0, 0, 10},
    {"Juniper Ridge Names LLC", "juniper-ridge-names", "US", 9987, 0, 0, 40},
    {"Nordkap Domains AS", "nordkap-domains", "NO", 9991, 0, 1, 0},
    {"Copperleaf Registrar, Inc.", "copperleaf-registrar", "US", 9988, 1, 0, 0},
    {"Sakura Names K.K.", "sakura-names", "JP", 9989, 0, 2, 0},
    {"Bluefin Domains S.A.", "bluefin-domains", "ES", 9901, 2, 0, 20},
    {"Tidewater Names Inc.", "tidewater-names", "US", 9902, 0, 1, 0},
    {"Lindenhof Domains GmbH", "lindenhof-domains", "DE", 9903, 0, 0, 0},
    {"Aurora Registry Services Inc.", "aurora-rs", "CA", 9904, 1, 1, 5},
    {"Kestrel Names Ltd", "kestrel-names", "GB", 9905, 0, 0, 60},
    {"Pinecrest Registrar LLC", "pinecrest-registrar", "US", 9906, 2, 2, 0},
    {"Solano Dominios S.L.", "solano-dominios", "ES", 9907, 0, 0, 0},
    {"Everglow Networks Pty Ltd", "everglow-networks", "AU", 9908, 0, 1, 15},
    {"Granite Peak Domains LLC", "granite-peak-domains", "US", 9909, 1, 0, 0},
    {"Marigold Names B.V.", "marigold-names", "NL", 9910, 0, 0, 0},
    {"Redwood Registrar Corp.", "redwood-registrar", "US", 9911, 0, 2, 30},
    {"Fjordline Domener AS", "fjordline", "NO", 9912, 0, 0, 0},
    {"Seabright Domains SARL", "seabright-domains", "FR", 9913, 2, 1, 0},
    {"Hanok Names Co., Ltd.", "hanok-names", "KR", 9914, 0, 0, 0},
    {"Lotus Cloud Registrar Co., Ltd.", "lotus-cloud", "CN", 9915, 1, 2, 0},
    {"Ipê Domínios Ltda.", "ipe-dominios", "BR", 9916, 0, 0, 25},
};
const unsigned n_registrars = sizeof registrars / sizeof registrars[0];

const status_t statuses[] = {
    {"active", "ok", "This is the standard status for a domain, meaning it has no pending operations or prohibitions."},
    {"inactive", "inactive", "This status code indicates that delegation information (name servers) has not been associated with your domain."},
    {"client transfer prohibited", "clientTransferProhibited", "This status code tells your domain's registry to reject requests to transfer the domain from your current registrar to another."},
    {"client delete prohibited", "clientDeleteProhibited", "This status code tells your domain's registry to reject requests to delete the domain."},
    {"client update prohibited", "clientUpdateProhibited", "This status code tells your domain's registry to reject requests to update the domain."},
    {"client renew prohibited", "clientRenewProhibited", "This status code tells your domain's registry to reject requests to renew your domain."},
    {"client hold", "clientHold", "This status code tells your domain's registry to not activate your domain in the DNS and as a consequence, it will not resolve."},
    {"server transfer prohibited", "serverTransferProhibited", "This status code prevents your domain from being transferred from your current registrar to another."},
    {"server delete prohibited", "serverDeleteProhibited", "This status code prevents your domain from being deleted."},
    {"server update prohibited", "serverUpdateProhibited", "This status code locks your domain preventing it from being updated."},
    {"server hold", "serverHold", "This status code is set by your domain's Registry Operator. Your domain is not activated in the DNS."},
    {"pending delete", "pendingDelete", "This status code may be mixed with redemptionPeriod or pendingRestore. In such case, depending on the status set in the domain name, the corresponding description presented above applies."},
    {"redemption period", "redemptionPeriod", "This status code indicates that your registrar has asked the registry to delete your domain. Your domain will be held in this status for 30 days."},
    {"pending transfer", "pendingTransfer", "This status code indicates that a request to transfer your domain to a new registrar has been received and is being processed."},
    {"auto renew period", "autoRenewPeriod", "This grace period is provided after a domain name registration period expires and is extended (renewed) automatically by the registry."},
    {"add period", "addPeriod", "This grace period is provided after the initial registration of a domain name."},
    {"transfer period", "transferPeriod", "This grace period is provided after the successful transfer of a domain name from one registrar to another."},
    {"associated", "linked", "This status indicates that the object is linked to at least one other object, such as a domain name."},
    {"renew period", "renewPeriod", "This grace period is provided after a domain name registration period is explicitly extended (renewed) by the registrar."},
};
const unsigned n_statuses = sizeof statuses / sizeof statuses[0];

int status_index(const char *rdap)
{
    for (unsigned i = 0; i < n_statuses; i++)
        if (strcmp(statuses[i].rdap, rdap) == 0)
            return (int)i;
    return -1;
}

/* Texts that real registrars put in remarks; used to pad domains to --size. */
const remark_t pad_remarks[] = {
    {"Registrar Data Disclaimer",
     {"The data in this record is provided by the sponsoring registrar for informational purposes only, and the registrar does not guarantee its accuracy.",
      "This service is intended only for query-based access. You agree that you will use this data only for lawful purposes and that, under no circumstances will you use this data to allow, enable, or otherwise support the transmission of mass unsolicited, commercial advertising or solicitations.",
      NULL},
     "https://www.icann.org/resources/pages/rdds-labeling-policy-2017-02-01-en"},
    {"Data Privacy Notice",
     {"Personal data in this response is processed in accordance with the registrar's privacy policy.",
      "Certain contact data elements may be withheld or redacted as required by applicable data protection law, including the GDPR and the CCPA.",
      NULL},
     NULL},
    {"Transfer Policy",
     {"Domain name transfers are subject to ICANN's Transfer Policy.",
      "A 60-day inter-registrar transfer lock may apply after a change of registrant unless the registrant opted out of it before the change.",
      NULL},
     "https://www.icann.org/resources/pages/transfer-policy-2016-06-01-en"},
    {"Accuracy of Registration Data",
     {"ICANN requires registrars to investigate claims of inaccurate registration data.",
      "Registrants must respond to registrar inquiries about the accuracy of their contact data within fifteen days, or the domain name may be suspended.",
      NULL},
     "https://icann.org/wicf"},
    {"Registrant Rights and Responsibilities",
     {"Registrants have rights and responsibilities under the Registrar Accreditation Agreement, including the right to accurate information about the registrar's fees and renewal practices.",
      NULL, NULL},
     "https://www.icann.org/resources/pages/responsibilities-2014-03-14-en"},
    {"Rate Limiting",
     {"Queries to this service are rate limited per source address.",
      "Automated high-volume queries may be throttled or blocked without notice; please contact the service operator to arrange bulk access.",
      NULL},
     NULL},
    {"Expiration and Renewal",
     {"The registry expiration date may differ from the registrar expiration date while an automatic renewal is pending.",
      "Renewal reminders are sent to the registrant email address thirty and seven days before expiration.",
      NULL},
     "https://www.icann.org/resources/pages/errp-2013-02-28-en"},
    {"Reseller Information",
     {"This domain name may have been registered through a reseller of the sponsoring registrar. Support requests should be directed to the reseller first.",
      NULL, NULL},
     NULL},
    {"Uniform Domain-Name Dispute-Resolution Policy",
     {"Disputes over the registration of this domain name are subject to the Uniform Domain-Name Dispute-Resolution Policy (UDRP).",
      "Complaints may be filed with any ICANN-approved dispute resolution service provider.",
      NULL},
     "https://www.icann.org/resources/pages/help/dndr/udrp-en"},
    {"Lawful Access",
     {"Requests for non-public registration data from law enforcement or parties with a legitimate interest can be submitted through the registrar's disclosure request form.",
      NULL, NULL},
     "https://www.icann.org/rdrs-en"},
};
const unsigned n_pad_remarks = sizeof pad_remarks / sizeof pad_remarks[0];
