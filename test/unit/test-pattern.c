/* Unit tests: EventBridge content filters — every operator against
 * realistic notification context documents, and pattern validation. */
#undef NDEBUG
#include "cppo/pattern.h"

#include "cppo/error.h"
#include "cppo/yamldoc.h"

#include "context-docs.h"

/* context_json holds no numbers today (metadata values are strings), so
 * numeric operators are exercised on a document extended with some. */
static const char numbers_doc[] =
    "{'kind':'new_order','opportunity':{'metadata':{'seats':'25'}},"
    "'usage':{'seats':25,'discount':12.5,'delta':-3,'tiers':[1,5,10],'big':12345678901234},"
    "'misc':{'empty':'','path':'C:\\\\data','star':'*'}}";

/* No list of objects in context_json today; the semantics are fixed anyway. */
static const char lines_doc[] =
    "{'kind':'new_order','lines':[{'sku':'base','qty':1},{'sku':'addon','qty':2}],"
    "'tags':[['a','b'],[]]}";

struct match_case {
        const char *pattern;
        const char *doc;
        bool want;
};

#define O order_doc
#define E extended_doc
#define A attention_doc
#define N numbers_doc

/* Runs a table: each pattern must validate and match (or not) its doc. */
static void run_cases(const struct match_case *cases, size_t n)
{
        char err[CPPO_ERRLEN];
        int failures = 0;
        for (size_t i = 0; i < n; i++) {
                yajl_val p = jparse(cases[i].pattern), d = jparse(cases[i].doc);
                if (pattern_validate(p, NULL, err, sizeof(err)) != 0) {
                        fprintf(stderr, "# case %zu %s: rejected: %s\n", i, cases[i].pattern, err);
                        failures++;
                } else if (pattern_match(p, d) != cases[i].want) {
                        fprintf(stderr, "# case %zu %s: want %s\n", i, cases[i].pattern,
                                cases[i].want ? "match" : "no match");
                        failures++;
                }
                yajl_tree_free(p);
                yajl_tree_free(d);
        }
        assert_int_equal(failures, 0);
}

#define RUN(table) run_cases(table, sizeof(table) / sizeof(table[0]))

static void exact_values_and_lists(void **state)
{
        static const struct match_case cases[] = {
                { "{'kind':['new_order']}", O, true },
                { "{'kind':['order_ended']}", O, false },
                { "{'kind':['order_ended','new_order']}", O, true },
                { "{'kind':['NEW_ORDER']}", O, false },
                { "{'kind':['new_order'],'agreement':{'intent':['NEW']}}", O, true },
                { "{'kind':['new_order'],'agreement':{'intent':['RENEW']}}", O, false },
                { "{'opportunity':{'registered':[true]}}", O, true },
                { "{'opportunity':{'registered':[true]}}", E, false },
                { "{'opportunity':{'registered':['true']}}", O, false },
                { "{'offer':{'late':[false]}}", O, true },
                { "{'offer':{'late':[false]}}", E, false },
                { "{'reason':[null]}", O, true },
                { "{'reason':[null]}", A, false },
                { "{'agreement':{'end_time':[null]}}", O, true },
                { "{'campaign':[null]}", O, false },
                { "{'partner':{'account_id':['444455556666']}}", O, true },
                { "{'partner':{'account_id':[444455556666]}}", O, false },
                { "{'usage':{'seats':[25]}}", N, true },
                { "{'usage':{'seats':[25.0]}}", N, true },
                { "{'usage':{'seats':['25']}}", N, false },
                { "{'usage':{'big':[12345678901234]}}", N, true },
                { "{'usage':{'big':[12345678901235]}}", N, false },
        };
        RUN(cases);
}

static void nested_keys_and_shape_mismatches(void **state)
{
        static const struct match_case cases[] = {
                { "{'opportunity':{'metadata':{'region':['EMEA']}}}", O, true },
                { "{'opportunity':{'metadata':{'region':['APAC']}}}", O, false },
                { "{'opportunity':{'metadata':{'region':['EMEA']}}}", E, false },
                { "{'opportunity':{'metadata':{'segment':['smb']}}}", O, false },
                /* a leaf pattern never matches a document object */
                { "{'opportunity':['ra-0a1b2c']}", O, false },
                { "{'opportunity':{'metadata':[{'exists':true}]}}", O, false },
                { "{'opportunity':{'metadata':[{'exists':false}]}}", O, false },
                { "{'opportunity':[{'anything-but':'x'}]}", O, false },
                /* a nested pattern under a scalar or absent value: its keys are absent */
                { "{'kind':{'name':['new_order']}}", O, false },
                { "{'kind':{'name':[{'exists':false}]}}", O, true },
                { "{'campaign':{'id':[{'exists':false}]}}", O, true },
                { "{'campaign':{'id':[{'exists':true}]}}", O, false },
                /* all keys of a pattern must match */
                { "{'offer':{'link':['registered'],'late':[true]}}", O, false },
                { "{'offer':{'link':['none'],'late':[true]}}", E, true },
        };
        RUN(cases);
}

static void document_arrays_match_any_element(void **state)
{
        static const struct match_case cases[] = {
                { "{'buyer':{'account_ids':['777788889999']}}", O, true },
                { "{'buyer':{'account_ids':['000000000000']}}", O, false },
                { "{'buyer':{'account_ids':['111122223333']}}", E, false },
                { "{'opportunity':{'notify':[{'suffix':'@partner.example'}]}}", O, true },
                { "{'opportunity':{'notify':[{'suffix':'@other.example'}]}}", O, false },
                { "{'usage':{'tiers':[{'numeric':['>',9]}]}}", N, true },
                { "{'usage':{'tiers':[{'numeric':['>',10]}]}}", N, false },
                { "{'usage':{'tiers':[5]}}", N, true },
                { "{'source_event_keys':[{'prefix':'123456789012|'}]}", O, true },
                { "{'source_event_keys':[{'prefix':'123456789012|'}]}", E, false },
                /* a nested pattern over a list of objects: one element must match it all */
                { "{'lines':{'sku':['addon']}}", lines_doc, true },
                { "{'lines':{'sku':['addon'],'qty':[2]}}", lines_doc, true },
                { "{'lines':{'sku':['addon'],'qty':[1]}}", lines_doc, false },
                { "{'lines':{'discount':[{'exists':false}]}}", lines_doc, true },
                { "{'lines':{'qty':[{'numeric':['>',1]}]}}", lines_doc, true },
                { "{'lines':['base']}", lines_doc, false },
                /* lists inside lists are searched too */
                { "{'tags':['b']}", lines_doc, true },
                { "{'tags':[{'exists':true}]}", lines_doc, true },
        };
        RUN(cases);
}

static void prefix_and_suffix(void **state)
{
        static const struct match_case cases[] = {
                { "{'offer':{'id':[{'prefix':'offer-'}]}}", O, true },
                { "{'offer':{'id':[{'prefix':'agmt-'}]}}", O, false },
                { "{'offer':{'id':[{'prefix':'offer-3zt7q-longer'}]}}", O, false },
                { "{'offer':{'id':[{'prefix':'offer-3zt7q'}]}}", O, true },
                { "{'agreement':{'id':[{'prefix':'agmt'}]}}", E, false },
                { "{'offer':{'name':[{'prefix':''}]}}", O, true },
                { "{'offer':{'expiration':[{'prefix':''}]}}", E, false },
                { "{'offer':{'late':[{'prefix':'f'}]}}", O, false },
                { "{'kind':[{'suffix':'_order'}]}", O, true },
                { "{'kind':[{'suffix':'new_order'}]}", O, true },
                { "{'kind':[{'suffix':'a_new_order'}]}", O, false },
                { "{'kind':[{'suffix':'_ORDER'}]}", O, false },
                { "{'kind':[{'prefix':'order'},{'suffix':'_extended'}]}", E, true },
                { "{'usage':{'seats':[{'prefix':'2'}]}}", N, false },
        };
        RUN(cases);
}

static void wildcards(void **state)
{
        static const struct match_case cases[] = {
                { "{'offer':{'id':[{'wildcard':'offer-*'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'*-3zt7q'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'offer*7q'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'o*f*e*q'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'*7q*'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'*x*'}]}}", O, false },
                { "{'offer':{'id':[{'wildcard':'offer-3zt7'}]}}", O, false },
                { "{'offer':{'id':[{'wildcard':'offer-3zt7q'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'*'}]}}", O, true },
                { "{'offer':{'id':[{'wildcard':'*q*q'}]}}", O, false },
                { "{'misc':{'empty':[{'wildcard':'*'}]}}", N, true },
                { "{'misc':{'empty':[{'wildcard':'a*'}]}}", N, false },
                { "{'misc':{'empty':[{'wildcard':''}]}}", N, true },
                /* \* is a literal star, \\ a literal backslash */
                { "{'product':{'title':[{'wildcard':'DataPipe Pro\\\\*'}]}}", O, true },
                { "{'product':{'title':[{'wildcard':'DataPipe\\\\*'}]}}", O, false },
                { "{'product':{'title':[{'wildcard':'*\\\\*'}]}}", O, true },
                { "{'product':{'title':[{'wildcard':'*\\\\*'}]}}", E, false },
                { "{'misc':{'star':[{'wildcard':'\\\\*'}]}}", N, true },
                { "{'misc':{'path':[{'wildcard':'C:\\\\\\\\*'}]}}", N, true },
                { "{'misc':{'path':[{'wildcard':'C:\\\\\\\\d*'}]}}", N, true },
                { "{'misc':{'path':[{'wildcard':'C:d*'}]}}", N, false },
                /* UTF-8 is matched byte for byte; * spans whole characters */
                { "{'partner':{'name':[{'wildcard':'\303\226d*g'}]}}", O, true },
                { "{'partner':{'name':[{'wildcard':'*\303\226*'}]}}", O, true },
                { "{'offer':{'late':[{'wildcard':'*'}]}}", O, false },
                { "{'offer':{'expiration':[{'wildcard':'*'}]}}", E, false },
        };
        RUN(cases);
}

static void anything_but_variants(void **state)
{
        static const struct match_case cases[] = {
                { "{'offer':{'link':[{'anything-but':'none'}]}}", O, true },
                { "{'offer':{'link':[{'anything-but':'none'}]}}", E, false },
                { "{'kind':[{'anything-but':['order_ended','attention_needed']}]}", O, true },
                { "{'kind':[{'anything-but':['order_ended','attention_needed']}]}", A, false },
                { "{'offer':{'id':[{'anything-but':{'prefix':'offer-'}}]}}", O, false },
                { "{'agreement':{'id':[{'anything-but':{'prefix':'offer-'}}]}}", O, true },
                { "{'opportunity':{'notify':[{'anything-but':{'suffix':'@acme.example'}}]}}", O,
                  true },
                { "{'opportunity':{'notify':[{'anything-but':{'suffix':'.example'}}]}}", O, false },
                { "{'agreement':{'intent':[{'anything-but':{'equals-ignore-case':'new'}}]}}", O,
                  false },
                { "{'agreement':{'intent':[{'anything-but':{'equals-ignore-case':'renew'}}]}}", O,
                  true },
                { "{'offer':{'id':[{'anything-but':{'wildcard':'offer-*q'}}]}}", O, false },
                { "{'offer':{'id':[{'anything-but':{'wildcard':'offer-*x'}}]}}", O, true },
                /* any element that is not excluded is enough */
                { "{'buyer':{'account_ids':[{'anything-but':'111122223333'}]}}", O, true },
                { "{'buyer':{'account_ids':[{'anything-but':['111122223333','777788889999']}]}}", O,
                  false },
                /* absent keys and empty lists hold no value to be different */
                { "{'campaign':[{'anything-but':'x'}]}", O, false },
                { "{'buyer':{'account_ids':[{'anything-but':'x'}]}}", E, false },
                /* null and booleans are present values, different from any string */
                { "{'agreement':{'id':[{'anything-but':'agmt-7f3a'}]}}", E, true },
                { "{'offer':{'late':[{'anything-but':'false'}]}}", O, true },
                { "{'partner':{'account_id':[{'anything-but':444455556666}]}}", O, true },
                /* list forms of the string operators (event-ruler's values sets,
             * JsonRuleCompiler.processAnythingButValuesSetMatchExpression;
             * EventBridge docs, "Anything-but matching"): none may match */
                { "{'kind':[{'anything-but':{'wildcard':['*_order','*_ended']}}]}", O, false },
                { "{'kind':[{'anything-but':{'wildcard':['*_order','*_ended']}}]}", A, true },
                { "{'agreement':{'intent':[{'anything-but':{'equals-ignore-case':['renew','nEw']}}]"
                  "}}",
                  O, false },
                { "{'agreement':{'intent':[{'anything-but':{'equals-ignore-case':['renew','x']}}]}"
                  "}",
                  O, true },
                { "{'offer':{'id':[{'anything-but':{'prefix':['agmt-','offer-']}}]}}", O, false },
                { "{'offer':{'id':[{'anything-but':{'prefix':['agmt-','ra-']}}]}}", O, true },
                { "{'kind':[{'anything-but':{'suffix':['_extended','_needed']}}]}", O, true },
                { "{'kind':[{'anything-but':{'suffix':['_extended','_needed']}}]}", E, false },
                { "{'partner':{'name':[{'anything-but':{'equals-ignore-case':'\303\266DLAND "
                  "consulting'}}]}}",
                  O, false },
                { "{'usage':{'seats':[{'anything-but':[24,26]}]}}", N, true },
                { "{'usage':{'seats':[{'anything-but':[24,25.0]}]}}", N, false },
        };
        RUN(cases);
}

static void exists_on_missing_present_null(void **state)
{
        static const struct match_case cases[] = {
                { "{'opportunity':{'id':[{'exists':true}]}}", O, true },
                { "{'opportunity':{'id':[{'exists':false}]}}", O, false },
                /* null is present with a null value (EventBridge) */
                { "{'opportunity':{'id':[{'exists':true}]}}", E, true },
                { "{'opportunity':{'id':[{'exists':false}]}}", E, false },
                { "{'opportunity':{'crm_id':[{'exists':false}]}}", O, true },
                { "{'opportunity':{'crm_id':[{'exists':true}]}}", O, false },
                { "{'reason':[{'exists':false},null]}", O, true },
                { "{'reason':[{'exists':false}]}", O, false },
                /* an empty list holds nothing */
                { "{'buyer':{'account_ids':[{'exists':true}]}}", O, true },
                { "{'buyer':{'account_ids':[{'exists':true}]}}", E, false },
                { "{'buyer':{'account_ids':[{'exists':false}]}}", E, true },
                { "{'buyer':{'account_ids':[{'exists':false}]}}", O, false },
                { "{'agreement':{'intent':[{'exists':true}]}}", A, false },
                { "{'agreement':{'intent':[{'exists':false}]}}", A, true },
        };
        RUN(cases);
}

static void numeric_ranges_and_boundaries(void **state)
{
        static const struct match_case cases[] = {
                { "{'usage':{'seats':[{'numeric':['>',0,'<=',25]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['>',0,'<',25]}]}}", N, false },
                { "{'usage':{'seats':[{'numeric':['>=',25,'<',30]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['>',25,'<',30]}]}}", N, false },
                { "{'usage':{'seats':[{'numeric':['<=',30,'>',20]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['>=',25,'<=',25]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['>=',25]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['>',25]}]}}", N, false },
                { "{'usage':{'seats':[{'numeric':['<',25]}]}}", N, false },
                { "{'usage':{'seats':[{'numeric':['<=',25]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['=',25]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['=',25.0]}]}}", N, true },
                { "{'usage':{'seats':[{'numeric':['=',24.999]}]}}", N, false },
                { "{'usage':{'discount':[{'numeric':['>',12,'<',13]}]}}", N, true },
                { "{'usage':{'discount':[{'numeric':['>',12.5]}]}}", N, false },
                { "{'usage':{'discount':[{'numeric':['>=',12.5]}]}}", N, true },
                { "{'usage':{'delta':[{'numeric':['<',0]}]}}", N, true },
                { "{'usage':{'delta':[{'numeric':['>',-3]}]}}", N, false },
                { "{'usage':{'big':[{'numeric':['>',1e13]}]}}", N, true },
                /* numeric only ever matches JSON numbers */
                { "{'opportunity':{'metadata':{'seats':[{'numeric':['=',25]}]}}}", N, false },
                { "{'usage':{'missing':[{'numeric':['>',0]}]}}", N, false },
                { "{'usage':[{'numeric':['>',0]}]}", N, false },
        };
        RUN(cases);
}

/* Non-ASCII values, for case folding. */
static const char unicode_doc[] =
    "{'u':{'cyr':'\320\234\320\276\321\201\320\272\320\262\320\260',"             /* Москва */
    "'greek':'\316\237\316\224\316\245\316\243\316\243\316\225\316\245\316\243'," /* ΟΔΥΣΣΕΥΣ */
    "'street':'Stra\303\237e','shout':'STRASSE',"                                 /* Straße */
    "'kelvin':'\342\204\252','k':'k',"                                            /* U+212A */
    "'title':'\307\205',"                                                         /* U+01C5 */
    "'city':'\304\260stanbul',"                                                   /* İstanbul */
    "'hy':'\324\265\326\200\326\207\325\241\325\266',"                            /* Երևան */
    "'HY':'\324\265\325\220\324\265\325\222\324\261\325\206',"                    /* ԵՐԵՒԱՆ */
    "'ka':'\341\203\220',"                                                        /* U+10D0 */
    "'emoji':'\360\237\230\200x'}}";

#define U unicode_doc

/* event-ruler (input/EqualsIgnoreCaseParser) turns each pattern character
 * c into {c.toLowerCase(ROOT), c.toUpperCase(ROOT)} and matches the value's
 * bytes against those, unfolded: the expectations below follow from that
 * (checked with the JDK 17 that ships with Debian 12). */
static void equals_ignore_case_folds_unicode_like_eventbridge(void **state)
{
        static const struct match_case cases[] = {
                { "{'u':{'cyr':[{'equals-ignore-case':'\320\274\320\236\320\241\320\232\320\222"
                  "\320\220'}]}}",
                  U, true },
                /* final sigma: its upper form is Σ */
                { "{'u':{'greek':[{'equals-ignore-case':'\316\277\316\264\317\205\317\203\317\203"
                  "\316\265\317\205\317\202'}]}}",
                  U, true },
                /* ß stands for itself or SS, not the other way round */
                { "{'u':{'shout':[{'equals-ignore-case':'stra\303\237e'}]}}", U, true },
                { "{'u':{'street':[{'equals-ignore-case':'STRASSE'}]}}", U, false },
                { "{'u':{'street':[{'equals-ignore-case':'STRA\303\237E'}]}}", U, true },
                /* the Kelvin sign folds to k; k does not fold to it */
                { "{'u':{'k':[{'equals-ignore-case':'\342\204\252'}]}}", U, true },
                { "{'u':{'kelvin':[{'equals-ignore-case':'k'}]}}", U, false },
                /* a title-case letter is its lower or upper form, not itself */
                { "{'u':{'title':[{'equals-ignore-case':'\307\205'}]}}", U, false },
                { "{'u':{'title':[{'equals-ignore-case':'\307\206'}]}}", U, false },
                { "{'u':{'city':[{'equals-ignore-case':'\304\260STANBUL'}]}}", U, true },
                /* Armenian ligature ev: its upper form is two letters */
                { "{'u':{'HY':[{'equals-ignore-case':'\325\245\326\200\326\207\325\241\325\266'}]}"
                  "}",
                  U, true },
                { "{'u':{'hy':[{'equals-ignore-case':'"
                  "\324\265\325\220\324\265\325\222\324\261\325\206'}"
                  "]}}",
                  U, false },
                /* Georgian Mtavruli U+1C90 lower-cases to Mkhedruli U+10D0 */
                { "{'u':{'ka':[{'equals-ignore-case':'\341\262\220'}]}}", U, true },
                /* beyond the BMP: bytes as written */
                { "{'u':{'emoji':[{'equals-ignore-case':'\360\237\230\200X'}]}}", U, true },
                { "{'partner':{'name':[{'equals-ignore-case':'\303\266dland consulting'}]}}", O,
                  true },
                /* prefix and suffix with equals-ignore-case (EventBridge docs:
             * {"prefix": {"equals-ignore-case": "EventB"}}) */
                { "{'partner':{'name':[{'prefix':{'equals-ignore-case':'\303\266DLAND'}}]}}", O,
                  true },
                { "{'partner':{'name':[{'prefix':{'equals-ignore-case':'\303\266DLANDX'}}]}}", O,
                  false },
                { "{'partner':{'name':[{'prefix':{'equals-ignore-case':''}}]}}", O, true },
                { "{'partner':{'name':[{'suffix':{'equals-ignore-case':' CONSULTING'}}]}}", O,
                  true },
                { "{'partner':{'name':[{'suffix':{'equals-ignore-case':'XCONSULTING'}}]}}", O,
                  false },
                { "{'u':{'shout':[{'suffix':{'equals-ignore-case':'\303\237e'}}]}}", U, true },
                { "{'u':{'shout':[{'prefix':{'equals-ignore-case':'stra\303\237'}}]}}", U, true },
                { "{'u':{'street':[{'suffix':{'equals-ignore-case':'SSE'}}]}}", U, false },
                { "{'kind':[{'prefix':{'equals-ignore-case':'NEW_'}}]}", O, true },
                { "{'kind':[{'prefix':'NEW_'}]}", O, false },

                { "{'agreement':{'intent':[{'equals-ignore-case':'new'}]}}", O, true },
                { "{'agreement':{'intent':[{'equals-ignore-case':'nEw'}]}}", O, true },
                { "{'agreement':{'intent':[{'equals-ignore-case':'renew'}]}}", O, false },
                { "{'agreement':{'intent':[{'equals-ignore-case':'ne'}]}}", O, false },
                { "{'agreement':{'intent':[{'equals-ignore-case':'new '}]}}", O, false },
                { "{'opportunity':{'metadata':{'tier':[{'equals-ignore-case':'GOLD'}]}}}", O,
                  true },
                { "{'agreement':{'intent':[{'equals-ignore-case':'new'}]}}", E, false },
                { "{'partner':{'name':[{'equals-ignore-case':'\303\226DLAND CONSULTING'}]}}", O,
                  true },
                { "{'kind':[{'equals-ignore-case':'NEW_ORDER'}]}", O, true },
        };
        RUN(cases);
}

/* $or: the level matches when its other keys do and any alternative does
 * (event-ruler JsonRuleCompiler: each alternative forks the rule; nested
 * $or allowed; EventBridge docs, "Or matching"). */
static void or_alternatives(void **state)
{
        static const struct match_case cases[] = {
                { "{'kind':['new_order'],'$or':[{'opportunity':{'metadata':{'region':['APAC']}}},"
                  "{'opportunity':{'metadata':{'tier':['gold']}}}]}",
                  O, true },
                { "{'kind':['new_order'],'$or':[{'opportunity':{'metadata':{'region':['APAC']}}},"
                  "{'opportunity':{'metadata':{'tier':['silver']}}}]}",
                  O, false },
                { "{'kind':['order_ended'],'$or':[{'kind':[{'exists':true}]},{'reason':[null]}]}",
                  O, false },
                /* under a nested key: the alternatives see that object */
                { "{'offer':{'$or':[{'link':['none']},{'late':[true]}]}}", O, false },
                { "{'offer':{'$or':[{'link':['none']},{'late':[true]}]}}", E, true },
                { "{'offer':{'$or':[{'link':['registered'],'late':[true]},{'id':[{'prefix':'offer-"
                  "3'}]}]"
                  "}}",
                  O, true },
                /* nested $or */
                { "{'$or':[{'kind':['attention_needed']},{'$or':[{'offer':{'late':[true]}},"
                  "{'agreement':{'intent':['NEW']}}]}]}",
                  O, true },
                { "{'$or':[{'kind':['x']},{'$or':[{'kind':['y']},{'offer':{'late':[true]}}]}]}", O,
                  false },
                { "{'$or':[{'kind':['x']},{'$or':[{'kind':['y']},{'offer':{'late':[true]}}]}]}", E,
                  true },
                /* over an absent object: only exists:false can hold */
                { "{'campaign':{'$or':[{'id':[{'exists':false}]},{'x':['1']}]}}", O, true },
                { "{'campaign':{'$or':[{'id':[{'exists':true}]},{'x':['1']}]}}", O, false },
                /* over a list of objects: one element must satisfy an alternative whole */
                { "{'lines':{'$or':[{'sku':['addon'],'qty':[1]},{'sku':['base'],'qty':[1]}]}}",
                  lines_doc, true },
                { "{'lines':{'$or':[{'sku':['addon'],'qty':[1]},{'sku':['base'],'qty':[2]}]}}",
                  lines_doc, false },
        };
        RUN(cases);
}

/* Addresses, as event-ruler's CIDR.java reads them; the ranges follow
 * its CIDRTest (TestCorrectRanges: host bits below the mask are cleared,
 * "54.240.196.171/24" covers 54.240.196.0-255). */
static const char ip_doc[] =
    "{'src':{'ip':'10.0.0.7','v6':'2001:db8::ff00:42:8329','mapped':'::ffff:a00:7',"
    "'odd':'08:23','num':10,'many':['192.168.1.1','10.1.2.3'],'lead':'010.0.0.7',"
    "'full':'0:0:0:0:0:0:0:1','edge':'2400:6500:ff00::36fb:1fbf',"
    "'past':'2400:6500:ff00::36fb:1fc0','name':'host.example'}}";

static void cidr_blocks_and_addresses(void **state)
{
        static const struct match_case cases[] = {
                { "{'src':{'ip':[{'cidr':'10.0.0.0/24'}]}}", ip_doc, true },
                { "{'src':{'ip':[{'cidr':'10.0.1.0/24'}]}}", ip_doc, false },
                { "{'src':{'ip':[{'cidr':'10.0.0.200/24'}]}}", ip_doc, true },
                { "{'src':{'ip':[{'cidr':'10.0.0.6/31'}]}}", ip_doc, true },
                { "{'src':{'ip':[{'cidr':'10.0.0.8/29'}]}}", ip_doc, false },
                { "{'src':{'ip':[{'cidr':'0.0.0.0/0'}]}}", ip_doc, true },
                { "{'src':{'v6':[{'cidr':'2001:db8::ff00:42:8329/24'}]}}", ip_doc, true },
                { "{'src':{'v6':[{'cidr':'2001:db9::/32'}]}}", ip_doc, false },
                { "{'src':{'edge':[{'cidr':'2400:6500:FF00::36FB:1F80/122'}]}}", ip_doc, true },
                { "{'src':{'past':[{'cidr':'2400:6500:FF00::36FB:1F80/122'}]}}", ip_doc, false },
                /* families do not mix, except IPv4-mapped IPv6 (Java reads it as IPv4) */
                { "{'src':{'v6':[{'cidr':'0.0.0.0/0'}]}}", ip_doc, false },
                { "{'src':{'ip':[{'cidr':'::/0'}]}}", ip_doc, false },
                { "{'src':{'mapped':[{'cidr':'10.0.0.0/24'}]}}", ip_doc, true },
                /* leading zeros are decimal, as InetAddress reads them */
                { "{'src':{'lead':[{'cidr':'10.0.0.0/29'}]}}", ip_doc, true },
                /* not an address: never inside a block */
                { "{'src':{'odd':[{'cidr':'0.0.0.0/0'}]}}", ip_doc, false },
                { "{'src':{'odd':[{'cidr':'::/0'}]}}", ip_doc, false },
                { "{'src':{'name':[{'cidr':'0.0.0.0/0'}]}}", ip_doc, false },
                { "{'src':{'num':[{'cidr':'0.0.0.0/0'}]}}", ip_doc, false },
                { "{'src':{'many':[{'cidr':'10.0.0.0/8'}]}}", ip_doc, true },
                { "{'src':{'many':[{'anything-but':{'prefix':'10.'}}]}}", ip_doc, true },
                /* an address literal compares as an address (JsonRuleCompiler
             * writeRules: CIDR.ipToRangeIfPossible), other strings as text
             * (CIDRTest.testInvalidIPMatchedByIPv6Regex) */
                { "{'src':{'full':['::1']}}", ip_doc, true },
                { "{'src':{'lead':['10.0.0.7']}}", ip_doc, true },
                { "{'src':{'mapped':['10.0.0.7']}}", ip_doc, true },
                { "{'src':{'ip':['10.0.0.8']}}", ip_doc, false },
                { "{'src':{'odd':['08:23']}}", ip_doc, true },
                { "{'src':{'odd':['8:23']}}", ip_doc, false },
                { "{'src':{'full':[{'anything-but':'::1'}]}}", ip_doc, true },
        };
        RUN(cases);
}

/* Patterns as operators write them in rules.d: YAML, with scalar leaves
 * and lone operator mappings instead of one-element lists. */
static void yaml_conveniences(void **state)
{
        static const struct {
                const char *yaml;
                const char *doc;
                bool want;
        } cases[] = {
                { "kind: new_order", O, true },
                { "kind: order_ended", O, false },
                { "offer:\n  link:\n    anything-but: none", O, true },
                { "offer:\n  link:\n    anything-but: none", E, false },
                { "opportunity:\n  id:\n    exists: false", E, false },
                { "opportunity:\n  crm_id:\n    exists: false", E, true },
                { "opportunity:\n  registered: true", O, true },
                { "opportunity:\n  metadata:\n    region: [EMEA, APAC]", O, true },
                /* an unquoted account id is a YAML number, never equal to the string */
                { "partner:\n  account_id: 444455556666", O, false },
                { "partner:\n  account_id: '444455556666'", O, true },
                { "reason:", O, true },
                { "$or:\n  - kind: order_ended\n  - offer:\n      link: registered", O, true },
                { "$or:\n  - kind: order_ended\n  - offer:\n      link: registered", E, false },
                { "offer:\n  id:\n    prefix:\n      equals-ignore-case: OFFER-", O, true },
                { "kind:\n  anything-but:\n    suffix: [_extended, _needed]", O, true },
                { "usage:\n  seats:\n    numeric: ['>', 10, '<=', 25]", N, true },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ynode *y = NULL;
                yajl_val p = NULL, d = jparse(cases[i].doc);
                char err[CPPO_ERRLEN];
                int line, col;
                assert_int_equal(yamldoc_parse(&y, cases[i].yaml, strlen(cases[i].yaml), &line,
                                               &col, err, sizeof(err)),
                                 0);
                assert_int_equal(yamldoc_to_yajl(y, &p), 0);
                assert_int_equal(pattern_validate(p, NULL, err, sizeof(err)), 0);
                if (pattern_match(p, d) != cases[i].want)
                        fprintf(stderr, "# yaml case %zu: %s\n", i, cases[i].yaml);
                assert_true(pattern_match(p, d) == cases[i].want);
                yajl_tree_free(p);
                yajl_tree_free(d);
                yamldoc_free(y);
        }
}

/* The node at a /-separated path of keys and list indexes. */
static yajl_val node_at(yajl_val v, const char *path)
{
        char seg[64];
        while (v != NULL && *path != '\0') {
                size_t n = strcspn(path, "/");
                assert_true(n < sizeof(seg));
                memcpy(seg, path, n);
                seg[n] = '\0';
                path += path[n] == '/' ? n + 1 : n;
                if (YAJL_IS_ARRAY(v)) {
                        size_t i = (size_t)strtoul(seg, NULL, 10);
                        v = i < v->u.array.len ? v->u.array.values[i] : NULL;
                        continue;
                }
                yajl_val next = NULL;
                for (size_t i = 0; YAJL_IS_OBJECT(v) && i < v->u.object.len; i++)
                        if (strcmp(v->u.object.keys[i], seg) == 0)
                                next = v->u.object.values[i];
                v = next;
        }
        return v;
}

static void bad_patterns_name_the_problem_and_node(void **state)
{
        static const struct {
                const char *pattern, *where, *message;
        } cases[] = {
                { "['kind']", "", "a match pattern must be a mapping, got a list" },
                { "{}", "", "empty mapping in match" },
                { "{'offer':{'id':{}}}", "offer/id", "empty mapping in match" },
                { "{'prefix':'offer-'}", "", "operator \"prefix\" needs a document key above it" },
                { "{'kind':[]}", "kind", "empty list in match" },
                { "{'kind':['new_order',['x']]}", "kind/1",
                  "a list inside a match list is not allowed" },
                { "{'kind':[{}]}", "kind/0", "a match operator must have exactly one key, got 0" },
                { "{'kind':[{'prefix':'a','suffix':'b'}]}", "kind/0",
                  "a match operator must have exactly one key, got 2" },
                { "{'offer':{'prefix':'a','suffix':'b'}}", "offer",
                  "operator \"prefix\" must be alone in its mapping" },
                { "{'kind':[{'regex':'new.*'}]}", "kind/0",
                  "unknown match operator \"regex\" (expected prefix, suffix, wildcard, "
                  "equals-ignore-case, exists, numeric, anything-but or cidr)" },
                { "{'kind':[{'prefix':1}]}", "kind/0/prefix",
                  "prefix must be a string or {equals-ignore-case: string}, got a number" },
                { "{'kind':[{'suffix':null}]}", "kind/0/suffix",
                  "suffix must be a string or {equals-ignore-case: string}, got null" },
                { "{'kind':[{'prefix':{'wildcard':'a*'}}]}", "kind/0/prefix",
                  "prefix: only equals-ignore-case may be nested in it, got \"wildcard\"" },
                { "{'kind':[{'suffix':{'equals-ignore-case':5}}]}",
                  "kind/0/suffix/equals-ignore-case",
                  "suffix: equals-ignore-case must be a string, got a number" },
                { "{'kind':[{'prefix':{'equals-ignore-case':'a','x':'b'}}]}", "kind/0/prefix",
                  "prefix must be a string or {equals-ignore-case: string}, got a mapping" },
                { "{'kind':[{'wildcard':true}]}", "kind/0/wildcard",
                  "wildcard must be a string, got a boolean" },
                { "{'kind':[{'equals-ignore-case':['a']}]}", "kind/0/equals-ignore-case",
                  "equals-ignore-case must be a string, got a list" },
                { "{'kind':[{'wildcard':'new**'}]}", "kind/0/wildcard",
                  "wildcard: consecutive \"*\" are not allowed" },
                { "{'kind':[{'wildcard':'new\\\\d'}]}", "kind/0/wildcard",
                  "wildcard: \"\\\" must be followed by \"*\" or \"\\\"" },
                { "{'kind':[{'wildcard':'new\\\\'}]}", "kind/0/wildcard",
                  "wildcard: \"\\\" must be followed by \"*\" or \"\\\"" },
                { "{'kind':[{'exists':'true'}]}", "kind/0/exists",
                  "exists must be true or false, got a string" },
                { "{'kind':[{'exists':1}]}", "kind/0/exists",
                  "exists must be true or false, got a number" },
                { "{'n':[{'numeric':'>5'}]}", "n/0/numeric",
                  "numeric must be a list like [\">\", 0, \"<=\", 5], got a string" },
                { "{'n':[{'numeric':['>']}]}", "n/0/numeric",
                  "numeric must be a list like [\">\", 0, \"<=\", 5], got a list of the wrong "
                  "length" },
                { "{'n':[{'numeric':['>',1,'<']}]}", "n/0/numeric",
                  "numeric must be a list like [\">\", 0, \"<=\", 5], got a list of the wrong "
                  "length" },
                { "{'n':[{'numeric':['!=',1]}]}", "n/0/numeric/0",
                  "numeric: unknown comparison \"!=\"" },
                { "{'n':[{'numeric':[1,1]}]}", "n/0/numeric/0",
                  "numeric: expected a comparison (<, <=, =, >=, >), got a number" },
                { "{'n':[{'numeric':['>','1']}]}", "n/0/numeric/1",
                  "numeric: expected a number after \">\", got a string" },
                { "{'n':[{'numeric':['>',0,'<=',null]}]}", "n/0/numeric/3",
                  "numeric: expected a number after \"<=\", got null" },
                { "{'n':[{'numeric':['=',1,'<',2]}]}", "n/0/numeric",
                  "numeric: a range needs one lower bound (> or >=) and one upper bound (< or "
                  "<=)" },
                { "{'n':[{'numeric':['>',1,'>=',2]}]}", "n/0/numeric",
                  "numeric: a range needs one lower bound (> or >=) and one upper bound (< or "
                  "<=)" },
                { "{'n':[{'numeric':['>',5,'<',5]}]}", "n/0/numeric",
                  "numeric: the range is empty" },
                { "{'n':[{'numeric':['>=',5,'<',5]}]}", "n/0/numeric",
                  "numeric: the range is empty" },
                { "{'n':[{'numeric':['<',5,'>',6]}]}", "n/0/numeric",
                  "numeric: the range is empty" },
                { "{'k':[{'anything-but':[]}]}", "k/0/anything-but", "anything-but: empty list" },
                { "{'k':[{'anything-but':['a',['b']]}]}", "k/0/anything-but/1",
                  "anything-but: a list may hold only strings or only numbers, got a list" },
                { "{'k':[{'anything-but':[{'prefix':'a'}]}]}", "k/0/anything-but/0",
                  "anything-but: a list may hold only strings or only numbers, got a mapping" },
                /* event-ruler: "Inside anything but list, either all values are
             * number or string, mixed type is not supported", and
             * "start|null|boolean is not supported" */
                { "{'k':[{'anything-but':['a',1]}]}", "k/0/anything-but",
                  "anything-but: a list must hold only strings or only numbers, not both" },
                { "{'k':[{'anything-but':[1,'a',2]}]}", "k/0/anything-but",
                  "anything-but: a list must hold only strings or only numbers, not both" },
                { "{'k':[{'anything-but':['a',null]}]}", "k/0/anything-but/1",
                  "anything-but: a list may hold only strings or only numbers, got null" },
                { "{'k':[{'anything-but':[true]}]}", "k/0/anything-but/0",
                  "anything-but: a list may hold only strings or only numbers, got a boolean" },
                { "{'k':[{'anything-but':null}]}", "k/0/anything-but",
                  "anything-but: expected a string, a number, a list of strings or of numbers, or "
                  "one "
                  "of prefix, suffix, wildcard, equals-ignore-case; got null" },
                { "{'k':[{'anything-but':false}]}", "k/0/anything-but",
                  "anything-but: expected a string, a number, a list of strings or of numbers, or "
                  "one "
                  "of prefix, suffix, wildcard, equals-ignore-case; got a boolean" },
                { "{'k':[{'anything-but':{'prefix':1}}]}", "k/0/anything-but/prefix",
                  "anything-but: prefix must be a string or a list of strings, got a number" },
                /* event-ruler: "Null prefix/suffix not allowed" */
                { "{'k':[{'anything-but':{'prefix':''}}]}", "k/0/anything-but/prefix",
                  "anything-but: an empty prefix is not allowed" },
                { "{'k':[{'anything-but':{'suffix':['a','']}}]}", "k/0/anything-but/suffix/1",
                  "anything-but: an empty suffix is not allowed" },
                { "{'k':[{'anything-but':{'suffix':[]}}]}", "k/0/anything-but/suffix",
                  "anything-but: suffix: empty list" },
                { "{'k':[{'anything-but':{'equals-ignore-case':['a',1]}}]}",
                  "k/0/anything-but/equals-ignore-case/1",
                  "anything-but: equals-ignore-case must be a string or a list of strings, got a "
                  "number" },
                { "{'k':[{'anything-but':{'wildcard':['a*','b**']}}]}",
                  "k/0/anything-but/wildcard/1", "wildcard: consecutive \"*\" are not allowed" },
                /* $or (event-ruler: "It must be an Array followed with $or",
             * "Only JSON object is allowed in array of $or relationship",
             * "There must have at least 2 Objects in $or relationship") */
                { "{'$or':'kind'}", "$or",
                  "$or must be a list of at least 2 patterns (mappings), got a string" },
                { "{'a':{'$or':{'b':['1']}}}", "a/$or",
                  "$or must be a list of at least 2 patterns (mappings), got a mapping" },
                { "{'$or':[{'a':['1']}]}", "$or", "$or needs at least 2 patterns, got 1" },
                { "{'$or':[]}", "$or", "$or needs at least 2 patterns, got 0" },
                { "{'$or':[{'a':['1']},'b']}", "$or/1",
                  "$or: each alternative must be a pattern (a mapping), got a string" },
                { "{'$or':[{'a':['1']},[{'b':['1']}]]}", "$or/1",
                  "$or: each alternative must be a pattern (a mapping), got a list" },
                { "{'$or':[{'a':['1']},{}]}", "$or/1", "empty mapping in match" },
                { "{'$or':[{'a':['1']},{'prefix':'x'}]}", "$or/1",
                  "operator \"prefix\" needs a document key above it" },
                { "{'a':{'$or':[{'b':['1']},{'$or':[{'c':['1']},{'d':[]}]}]}}", "a/$or/1/$or/1/d",
                  "empty list in match" },
                { "{'k':[{'$or':[{'a':['1']},{'b':['1']}]}]}", "k/0",
                  "unknown match operator \"$or\" (expected prefix, suffix, wildcard, "
                  "equals-ignore-case, exists, numeric, anything-but or cidr)" },
                /* cidr (event-ruler CIDRTest.SpotMalformedCIDRs and CIDR.cidr) */
                { "{'k':[{'cidr':5}]}", "k/0/cidr", "cidr must be a string, got a number" },
                { "{'k':[{'cidr':'10.0.0.0'}]}", "k/0/cidr",
                  "cidr: \"10.0.0.0\": one \"/\" required" },
                { "{'k':[{'cidr':'foo/bar/baz'}]}", "k/0/cidr",
                  "cidr: \"foo/bar/baz\": one \"/\" required" },
                { "{'k':[{'cidr':'192.168.0.1/33'}]}", "k/0/cidr",
                  "cidr: \"192.168.0.1/33\": IPv4 mask bits must be < 32" },
                { "{'k':[{'cidr':'192.168.0.1/32'}]}", "k/0/cidr",
                  "cidr: \"192.168.0.1/32\": IPv4 mask bits must be < 32" },
                { "{'k':[{'cidr':'2400:6500:FF00::36FB:1F80/222'}]}", "k/0/cidr",
                  "cidr: \"2400:6500:FF00::36FB:1F80/222\": IPv6 mask bits must be < 128" },
                { "{'k':[{'cidr':'::/128'}]}", "k/0/cidr",
                  "cidr: \"::/128\": IPv6 mask bits must be < 128" },
                { "{'k':[{'cidr':'192.168.0.1/foo'}]}", "k/0/cidr",
                  "cidr: \"192.168.0.1/foo\": the mask bits must be a whole number" },
                { "{'k':[{'cidr':'192.168.0.1/-3424'}]}", "k/0/cidr",
                  "cidr: \"192.168.0.1/-3424\": the mask bits must be a whole number" },
                { "{'k':[{'cidr':'snorkle/3'}]}", "k/0/cidr",
                  "cidr: \"snorkle/3\": not an IP address before \"/\"" },
                { "{'k':[{'cidr':'10.10.10.10.10/3'}]}", "k/0/cidr",
                  "cidr: \"10.10.10.10.10/3\": not an IP address before \"/\"" },
                { "{'k':[{'cidr':'2.1.0.-1/3'}]}", "k/0/cidr",
                  "cidr: \"2.1.0.-1/3\": not an IP address before \"/\"" },
                { "{'k':[{'cidr':'10.0.0.256/8'}]}", "k/0/cidr",
                  "cidr: \"10.0.0.256/8\": not an IP address before \"/\"" },
                { "{'k':[{'cidr':'2400:6500:3:3:3:3:3:3:3:3FF00::36FB:1F80/122'}]}", "k/0/cidr",
                  "cidr: \"2400:6500:3:3:3:3:3:3:3:3FF00::36FB:1F80/122\": not an IP address "
                  "before "
                  "\"/\"" },
                { "{'k':[{'cidr':'1::2::3/64'}]}", "k/0/cidr",
                  "cidr: \"1::2::3/64\": not an IP address before \"/\"" },
                { "{'k':[{'cidr':'::ffff:1.2.3.4/96'}]}", "k/0/cidr",
                  "cidr: \"::ffff:1.2.3.4/96\": not an IP address before \"/\"" },
                { "{'k':[{'anything-but':{'wildcard':'a**'}}]}", "k/0/anything-but/wildcard",
                  "wildcard: consecutive \"*\" are not allowed" },
                { "{'k':[{'anything-but':{'exists':true}}]}", "k/0/anything-but",
                  "anything-but: expected a string, a number, a list of strings or of numbers, or "
                  "one "
                  "of prefix, suffix, wildcard, equals-ignore-case; got a mapping" },
                { "{'k':[{'anything-but':{'prefix':'a','suffix':'b'}}]}", "k/0/anything-but",
                  "anything-but: expected a string, a number, a list of strings or of numbers, or "
                  "one "
                  "of prefix, suffix, wildcard, equals-ignore-case; got a mapping" },
                { "{'k':{'exists':'no'}}", "k/exists",
                  "exists must be true or false, got a string" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char err[CPPO_ERRLEN] = "";
                yajl_val p = jparse(cases[i].pattern), where = NULL;
                if (pattern_validate(p, &where, err, sizeof(err)) != -EINVAL ||
                    strcmp(err, cases[i].message) != 0)
                        fprintf(stderr, "# case %zu %s: got \"%s\"\n", i, cases[i].pattern, err);
                assert_int_equal(pattern_validate(p, &where, err, sizeof(err)), -EINVAL);
                assert_string_equal(err, cases[i].message);
                assert_non_null(where);
                assert_ptr_equal(where, node_at(p, cases[i].where));
                yajl_tree_free(p);
        }
}

static void good_patterns_pass_validation(void **state)
{
        static const char *const good[] = {
                "{'kind':['new_order']}",
                "{'kind':'new_order'}",
                "{'reason':null}",
                "{'n':[{'numeric':['>=',5,'<=',5]}]}",
                "{'n':[{'numeric':['=',-1.5]}]}",
                "{'k':[{'anything-but':'x'}]}",
                "{'k':[{'anything-but':['a','b']}]}",
                "{'k':[{'anything-but':[1,2.5]}]}",
                "{'k':[{'anything-but':{'wildcard':''}}]}",
                "{'k':[{'anything-but':{'equals-ignore-case':''}}]}",
                "{'k':[{'anything-but':{'wildcard':['*/lib/*','*/bin/*']}}]}",
                "{'k':[{'anything-but':{'equals-ignore-case':['a','b']}}]}",
                "{'k':[{'anything-but':{'prefix':['a','b']}}]}",
                "{'k':[{'prefix':{'equals-ignore-case':'EventB'}}]}",
                "{'k':[{'suffix':{'equals-ignore-case':''}}]}",
                "{'k':[{'cidr':'10.0.0.0/24'}]}",
                "{'k':[{'cidr':'0.0.0.0/0'}]}",
                "{'k':[{'cidr':'2001:db8::/127'}]}",
                "{'k':{'cidr':'::/0'}}",
                "{'$or':[{'a':['1']},{'b':['2']}]}",
                "{'a':{'$or':[{'b':['1']},{'$or':[{'c':['1']},{'d':['1']}]}]},'e':['1']}",
                "{'k':[{'wildcard':'a\\\\*b\\\\\\\\c*'}]}",
                "{'k':{'prefix':'x'}}",
                "{'a':{'b':{'c':{'d':[{'exists':false}]}}}}",
        };
        char err[CPPO_ERRLEN];
        yajl_val where = (yajl_val)1;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                yajl_val p = jparse(good[i]);
                if (pattern_validate(p, &where, err, sizeof(err)) != 0)
                        fprintf(stderr, "# %s: %s\n", good[i], err);
                assert_int_equal(pattern_validate(p, &where, err, sizeof(err)), 0);
                assert_null(where);
                yajl_tree_free(p);
        }
        assert_int_equal(pattern_validate(NULL, NULL, NULL, 0), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exact_values_and_lists),
                cmocka_unit_test(nested_keys_and_shape_mismatches),
                cmocka_unit_test(document_arrays_match_any_element),
                cmocka_unit_test(prefix_and_suffix),
                cmocka_unit_test(wildcards),
                cmocka_unit_test(anything_but_variants),
                cmocka_unit_test(exists_on_missing_present_null),
                cmocka_unit_test(numeric_ranges_and_boundaries),
                cmocka_unit_test(equals_ignore_case_folds_unicode_like_eventbridge),
                cmocka_unit_test(or_alternatives),
                cmocka_unit_test(cidr_blocks_and_addresses),
                cmocka_unit_test(yaml_conveniences),
                cmocka_unit_test(bad_patterns_name_the_problem_and_node),
                cmocka_unit_test(good_patterns_pass_validation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
