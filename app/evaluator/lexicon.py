"""Wording patterns for what a counsellor's words do to the client's story: advice and
directives, imposed interpretation, reflections, validation and dismissal.

Patterns describe forms (modal verbs, clause-initial imperatives, reflective stems), never
remembered sentences, so they carry over to text they have never seen. Text is normalised
before matching (`app.evaluator.normalise`): curly quotes become ', dashes become -.
This module holds data only; `app.evaluator.features` applies it.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


YOU = r"\b(?:you|u|ya)"
_ADV = (
    r"(?:(?:really|just|definitely|probably|seriously|absolutely|honestly|still|also|totally|"
    r"actually|certainly|then|now|maybe|perhaps|always|even|at\s+least)\s+)?"
)
LEAD = (
    r"^\W*(?:(?:so|and|but|okay|ok|well|then|now|right|also|mm+|hmm+|mhm|uh-?huh|yeah|yes|sure|"
    r"oh|ah|I\s+see|or|just|honestly|alright|and\s+so)[,.]?\s+)*"
)
EMOTIONS = (
    r"afraid|alone|angry|annoyed|anxious|ashamed|betrayed|bitter|broken|burn[te]d?\s+out|"
    r"conflicted|confused|crushed|defeated|depressed|desperate|devastated|disappointed|drained|"
    r"embarrassed|empty|exhausted|frightened|frustrated|furious|guilty|heartbroken|helpless|"
    r"hopeless|hurt|inadequate|insecure|irritated|isolated|jealous|let\s+down|lonely|lost|low|"
    r"miserable|nervous|numb|on\s+edge|overwhelmed|panicked|powerless|rejected|relieved|"
    r"resentful|sad|scared|shaken|shocked|sick\s+of|stressed|stuck|terrified|tired|torn|trapped|"
    r"uncertain|uneasy|unhappy|unsure|upset|vulnerable|worn\s+out|worried|worthless|unseen|"
    r"unheard|invisible|abandoned|judged|pressured|responsible|proud|hopeful|fed\s+up|gutted|"
    r"a\s+burden|not\s+good\s+enough|not\s+enough|too\s+much|dismissed|ignored|blamed"
)

ADVICE_MODAL = _rx(
    YOU + r"(?:'d|'ve|'ll)?\s+" + _ADV + r"(?:should(?:n't|\s+not)?|ought(?:n't)?\s+to|needs?\s+to|"
    r"(?<='ll\s)want\s+to|needs?\s+(?:some|a|an|more|less|professional|help|support|time|space|rest|sleep|therapy)\b|"
    r"ha(?:ve|s)\s+to|must(?:n't|\s+not)?|(?:have\s+)?got\s+to|gotta|had\s+better|better|"
    r"(?:would\s+)?be\s+better\s+off)\b(?!\s+than)(?!\s+be\s+(?:made\s+of|superhuman|a\s+saint|"
    r"a\s+robot|crazy|mad|inhuman))"
)
_DO = (
    r"try|consider|look\s+(?:into|at|for)|talk\s+to\s+(?!me\b)|speak\s+(?:to|with)\s+(?!me\b)|"
    r"reach\s+out|call|ring|phone|ask\s+(?!me\b)|start|write|go|get|join|take\s+(?!your\s+time)|make|find|"
    r"set|use|tell\s+(?:her|him|them|your|someone|somebody|people)|check\s+out|practi[cs]e|"
    r"see\s+(?:a|an|your|if|whether|someone|somebody)|spend|give|put|focus|keep|stop|avoid|seek|"
    r"book|contact|email|text|visit|sign\s+up|schedule|plan|journal|meditate|exercise|allow|"
    r"remind|distract|treat|surround|leave|quit|block|delete|do\s+(?:something|some|a|more|less)"
)
ADVICE_COULD = _rx(
    YOU
    + r"\s+(?:could|can|might|may)\s+"
    + _ADV
    + r"(?:(?:want|wish|like)\s+to|find\s+it\s+(?:helpful|useful)|"
    + _DO
    + r")\b"
)
ADVICE_QUESTION = _rx(
    r"\b(?:have|had)\s+you\s+(?:ever\s+)?(?:tried|attempted|considered|thought\s+(?:about|of)|"
    r"looked\s+into|explored|sought|reached\s+out)\s+(?!(?:what|how|why|whether|where|when|who|"
    r"that|it|this|about|anything)\b)\w+",
    r"\bwhy\s+(?:don't|dont|do\s+not)\s+you\s+(?!(?:tell|say|talk|share|think|feel|want|like|"
    r"believe|trust|know|see|care|remember|understand)\b)[a-z]+",
    r"\bwhy\s+not\s+(?!just\s*\?)[a-z]+",
    r"\b(?:what|how)\s+about\s+(?:you\s+)?(?!(?:some|any|no|every)thing\b|thing\b)[a-z]+ing\b",
    r"\bhow\s+about\s+you\s+(?:try|just|go|talk|take|get|make|start)\b",
    r"\bwhat\s+if\s+you\s+(?:just\s+)?(?:tried|try|were\s+to|started|stopped|told|talked|spoke|"
    r"went|took|made|gave|let|wrote|called|asked|reached|looked|set|found|joined|left)\b",
    r"\b(?:could|can|would|will)\s+you\s+(?:maybe\s+|perhaps\s+|possibly\s+|not\s+)?(?:try|consider|"
    r"reach\s+out|talk\s+to\s+(?!me\b)|speak\s+(?:to|with)\s+(?!me\b)|be\s+willing\s+to\s+try)\b",
    r"\b(?:don't|dont|wouldn't|won't)\s+you\s+(?:think|agree)\s+(?:you|it|that)\b",
    r"\bshouldn't\s+you\b|\b(?:wouldn't|isn't)\s+it\s+(?:be\s+)?(?:better|best|wise|easier|time)\b",
)
ADVICE = _rx(
    r"\bI(?:'d|\s+would|'m\s+going\s+to|\s+want\s+to|\s+really|\s+strongly|\s+highly|\s+do)?\s+"
    r"(?:suggest|recommend|advise|urge)\b",
    r"\bI(?:'d|\s+would)?\s+(?:really\s+|strongly\s+)?encourage\s+you\s+to\s+"
    r"(?!(?:say|tell|talk|share|take\s+your\s+time|go\s+at)\b)",
    r"\bmy\s+(?:advice|suggestion|recommendation|tip|two\s+cents|honest\s+advice)\b",
    r"\bI(?:'d|\s+would)\s+(?:just\s+|definitely\s+|probably\s+|honestly\s+|personally\s+)?"
    r"(?:block|leave|tell|talk|go\s+(?:to|for|and)|call|get|take|try|ask|move|walk|quit|cut|report|"
    r"stop|start|see|find|look|break|dump|ignore|confront|text|write|speak)\b",
    r"\bif\s+I\s+(?:were|was)\s+you\b|\bif\s+it\s+(?:were|was)\s+me\b|\bwhat\s+I(?:'d|\s+would)\s+do\b",
    r"\bin\s+your\s+(?:shoes|position|place),?\s+I(?:'d|\s+would)\b",
    r"\b(?:what|something\s+that|one\s+thing\s+that)\s+(?:really\s+)?(?:helped|helps|worked|works|"
    r"has\s+helped)\s+(?:for\s+)?me\b",
    r"\bit\s+(?:might|may|could|would|will|can|should|usually|often)\s+(?:really\s+|also\s+|"
    r"definitely\s+|probably\s+)?(?:help|be\s+(?:really\s+|very\s+|quite\s+|so\s+)?(?:helpful|"
    r"useful|a\s+good\s+idea|good|beneficial|wise|worthwhile|best|better|smart|important|"
    r"healthy))\s+(?:for\s+you\s+)?(?:to\s+(?!me\b|hear\b|know\b|see\s+(?:you|that|this|how)\b|talk\s+(?:about\s+)?"
    r"(?:it|this|that)\s+(?:here|with\s+me)|say\s+more)|if\s+you|[a-z]+ing\b)",
    r"\bit(?:'s|\s+is|\s+would\s+be|'d\s+be|\s+might\s+be|\s+may\s+be)\s+(?:really\s+|very\s+|"
    r"so\s+|super\s+|probably\s+)?(?:important|essential|vital|crucial|key|best|better|wise|"
    r"a\s+good\s+idea|healthy|necessary)\s+(?:for\s+you\s+)?(?:to\s+(?!me\b|hear\b|know\b|see\b|"
    r"meet\b)|that\s+you)",
    r"\b(?:it's|it\s+is|it\s+might\s+be|it\s+may\s+be|might\s+be|could\s+be)\s+worth\s+[a-z]+ing\b",
    r"\b(?!(?:some|any|no|every)thing\b)[a-z]+ing\b(?:\s+\w+){0,5}\s+(?:could|might|may|would|will|"
    r"can|should)\s+(?:really\s+|definitely\s+|also\s+)?(?:help|be\s+(?:helpful|useful|good\s+for\s+"
    r"you|worth\s+it))\b",
    r"\b(?:one|another|a|the)\s+(?:\w+\s+){0,2}(?:idea|option|suggestion|step|strategy|approach|"
    r"thing\s+(?:you|that)\s+(?:could|might|can))\s+(?:\w+\s+){0,2}?(?:is|would\s+be|might\s+be|"
    r"could\s+be|may\s+be)\s+(?:to\s+|[a-z]+ing\b)",
    r"\b(?:it's|it\s+is|it\s+might\s+be|it\s+may\s+be)\s+(?:about\s+|high\s+|probably\s+|maybe\s+)?"
    r"time\s+(?:to|for\s+you\s+to|you)\s+(?!(?:stop|finish|end|wrap|close|go)\b)",
    r"\bwhat\s+you\s+(?:could|might|can|should)\s+do\s+is\b",
    r"(?:^\W*|\b(?:maybe|perhaps)\s+)(?:a|an|some|more|less)\s+(?:\w+\s+){0,5}(?:would|could|might|"
    r"may|will|can)\s+(?:really\s+|also\s+)?(?:help|do\s+you\s+good)\b",
    r"\bgood\s+idea\s+(?:to|would\s+be|is\s+to)\b|\bwhat\s+you\s+(?:need|have|ought)\s+to\s+do\b",
    r"\bthe\s+(?:best|first|only|key|most\s+important|main|right|smart|simplest|easiest|quickest)\s+"
    r"(?:thing|step|priority|option|fix|solution|answer|cure|way)(?:\s+(?!is\b)[\w']+){0,4}?\s+(?:is|would\s+be)\s+(?:that\s+you|to\s+|for\s+you\s+to|"
    r"(?!being\b)[a-z]+ing\b)",
    r"\b(?:some|many|most|lots\s+of|a\s+lot\s+of)\s+(?:people|clients|folks)\s+find\s+(?:that\s+)?"
    r"(?:[\w'-]+\s+){0,5}?(?:helps?|helpful|useful|works?|makes?\s+a\s+difference)\b",
    r"\bthe\s+(?:best|first|only|key|most\s+important|right|smart|simplest)\s+(?:thing|step|option|"
    r"move|way\s+forward)\s+(?:to\s+do\s+|you\s+can\s+do\s+|you\s+could\s+do\s+|for\s+you\s+|"
    r"here\s+|now\s+)?(?:is|would\s+be)\b|\bthe\s+(?:key|trick|secret|answer|solution)\s+"
    r"(?:here\s+)?is\b",
    r"\b(?:there\s+are|there's|there\s+is)\s+(?:(?:many|some|lots\s+of|plenty\s+of|a\s+few|"
    r"a\s+lot\s+of|great|good|free|loads\s+of|several)\s+)*(?:resources|apps|hotlines|helplines|"
    r"support\s+groups|services|books|websites|techniques|strategies|exercises|programmes|tools)\b",
    r"^\W*just\s+(?!(?:to|so|a|because|like|now|then|me|you|I|that|this|how|what|for|wondering|"
    r"curious|checking|want|wanted|noticing|thinking|saying|listening|here|being|as)\b)"
    r"(?![a-z]+ing\b)[a-z]+",
)

# A clause opens at the start, after punctuation, or after "but" / "so".
IMPERATIVE = re.compile(
    r"(?:^|[,;:(]|\s-+|\b(?:but|so)\b|,\s*(?:and|then)\b|\bI(?:'d|\s+would)\s+say\b)\W*"
    r"(?:(?:please|just|maybe|perhaps|definitely|really|also|first|firstly|simply|always|now|"
    r"then|instead|honestly|seriously|do|at\s+least|for\s+now|next\s+time|sometimes|ideally|"
    r"again|if\s+you\s+can),?\s+)*"
    r"(?P<verb>do|try|take|go|talk|reach|call|ring|text|speak|see|tell|ask|write|make|get|give|let|"
    r"keep|stop|start|stay|remember|focus|think|consider|avoid|be|don'?t|never|find|seek|set|put|"
    r"spend|surround|treat|allow|practi[cs]e|breathe|distract|exercise|sleep|eat|drink|join|use|"
    r"look|pick|choose|accept|forgive|remind|trust|believe|cut|leave|move|quit|block|delete|"
    r"unfollow|journal|meditate|walk|rest|relax|calm|cheer|learn|read|watch|listen|check|plan|"
    r"schedule|prioriti[sz]e|sign|apply|contact|email|visit|book|work|aim|hold|show|share|say|"
    r"open|express|vent|limit|reduce|ignore|drop|lean|confront|embrace|reconnect|seek)\b",
    _I,
)
# verb -> (what must follow, what must not follow); None means no constraint.
_IMPERATIVE_RULES: dict[str, tuple[str | None, str | None]] = {
    "try": (None, r"me\b"),
    "take": (None, r"(?:your\s+time|care\b|me\s+through|as\s+long\s+as)"),
    "go": (None, r"(?:on|ahead|slowly|at\s+your|back\s+to\s+(?:what|when|that))\b"),
    "talk": (None, r"(?:me\s+through|(?:to|with)\s+me\b)"),
    "reach": (r"(?:out|for)\b", None),
    "speak": (r"(?:to|with|up)\b", r"(?:to|with)\s+me\b"),
    "see": (
        r"(?:a|an|your|someone|somebody|if\s+you|whether\s+you|the\s+(?:doctor|gp|nurse))\b",
        None,
    ),
    "make": (None, r"(?:sense|me)\b"),
    "get": (None, r"(?:(?:that|you|what|me)\b|it\s*[.!]?$)"),
    "let": (None, r"(?:me|us|'s|s)\b"),
    "keep": (None, r"(?:going|talking|me)\b"),
    "start": (None, r"(?:wherever|where\s+you|with\s+whatever|anywhere)\b"),
    "stay": (None, r"(?:safe|well|with|there|in\s+touch)\b"),
    "remember": (None, r"(?:when|how\s+you|you\s+(?:said|told|mentioned)|me|what\s+you\s+said)\b"),
    "think": (r"(?:about|of|positive|positively|twice|back|through|it\s+over)\b", None),
    "leave": (None, r"(?:it\s+there|that\s+there|me)\b"),
    "move": (r"(?:on|forward|out|away|past)\b", None),
    "walk": (None, r"me\b"),
    "calm": (r"down\b", None),
    "cheer": (r"up\b", None),
    "watch": (r"(?:out|a|some|your|what|how)\b", None),
    "listen": (r"to\b", r"to\s+me\b"),
    "check": (r"(?:in\s+with\s+(?:your|a|someone)|out|on\s+your|with\s+(?:your|a))\b", None),
    "sign": (r"up\b", None),
    "work": (r"(?:on|through|out)\b", None),
    "hold": (r"(?:onto|on\s+to)\b", None),
    "share": (r"(?:how\s+you\s+feel|your\s+feelings|it|this|that)\s+with\s+(?!me\b)", None),
    "say": (r"(?:no|yes|sorry|something\s+to|it\s+to|that\s+to|how\s+you\s+feel)\b", None),
    "open": (r"up\b", None),
    "lean": (r"(?:on|into)\b", None),
    "be": (
        r"(?:kind|gentle|patient|easy|proud|careful|nice|strong|brave|open|more|less|good\s+to|"
        r"sure|assertive|confident|positive|grateful|mindful|honest\s+with\s+(?!me))\b",
        None,
    ),
    "don't": (
        None,
        r"(?:know|have\s+to|need\s+to|think\s+so|mind|understand|get\s+it|be\s+sorry|apologi[sz]e)\b",
    ),
    "never": (None, r"mind\b"),
    "do": (r"(?:something|some|more|less|things\s+that|a\s|an\s|your)", None),
}
_NOUN_USE = re.compile(
    r"\s*(?:,|is|was|has|had|can|could|will|would|seems|sounds|feels|does|did|might|must|may|of|"
    r"and|or|'s|s\b)",
    _I,
)
_OBJECT_ME = re.compile(r"\s*(?:me|us)\b", _I)
_ME_OK = frozenset(
    {
        "tell",
        "ask",
        "show",
        "give",
        "trust",
        "believe",
        "forgive",
        "remind",
        "email",
        "text",
        "call",
        "read",
        "find",
    }
)


def imperative_is_advice(verb: str, rest: str) -> bool:
    """Whether a clause-initial verb is an instruction about the client's life."""
    verb = verb.lower().replace("dont", "don't")
    if _NOUN_USE.match(rest):
        return False  # "Sleep has been hard", "Look, ..." - a noun or a discourse marker
    if verb in _ME_OK and _OBJECT_ME.match(rest):
        return False  # "tell me", "give me an example": asks the client to speak, here
    need, avoid = _IMPERATIVE_RULES.get(verb, (None, None))
    if need is not None and not re.match(r"\s*" + need, rest, _I):
        return False
    return avoid is None or not re.match(r"\s*" + avoid, rest, _I)


CLAUSE_BREAK = _rx(r"[,;:(]|\s-+\s|\b(?:but|and|so|or|then|though|although|however|because)\b")
CLIENT_PERSPECTIVE = _rx(
    r"\b(?:you|you've|you're|you'd|yourself|they|people|everyone|everybody|someone|somebody|he|she|"
    r"your\s+\w+|others|society)\s+(?:\w+\s+){0,2}?(?:feel|feels|feeling|felt|think|thinks|"
    r"thinking|thought|believe|believes|believed|told|tell|tells|telling|say|says|saying|said|"
    r"expect|expects|expected|worry|worries|worried|fear|fears|sense|wonder|wondering|wish|hope|"
    r"know|knew|decided|heard|hear|learned|learnt|taught|convinced|sure|assume|assumed|imagine|"
    r"want|wants|wanted|demand|demanded|insist|insisted|grew\s+up|raised)\b",
    r"\bit\s+(?:feels|felt)\b|\b(?:as\s+if|as\s+though)\b|\bpart\s+of\s+you\b",
    r"\bthe\s+(?:idea|message|belief|sense|feeling|pressure|expectation|rule|voice|thought)\s+that\b",
)
COUNSELLOR_OPINION = _rx(
    r"\bI\s+(?:really\s+|honestly\s+|do\s+|just\s+|still\s+|personally\s+|genuinely\s+)?(?:think|"
    r"feel|believe|reckon|guess|suppose|wonder|would\s+say|'m\s+sure|am\s+sure|know)\b",
    r"\b(?:maybe|perhaps|probably|I'd|I\s+would)\b",
)
CONDITIONAL = _rx(r"\b(?:if|when|whenever|unless|whether|once|until|in\s+case)\b")
AUX_BEFORE_YOU = _rx(
    r"\b(?:do|does|did|would|could|will|can|might|may|should|shall|have|had|are|were|don't|"
    r"didn't|doesn't)\s+$"
)

INTERPRETATION = _rx(
    r"\bthe\s+(?:real|underlying|actual|true)\s+(?:reason|problem|issue|cause)\b",
    r"\bwhat(?:'s|\s+is)\s+really\s+going\s+on\b|\bwhat\s+you(?:'re|\s+are)?\s+really\s+"
    r"(?:doing|saying|feeling|want|need|mean|afraid|scared)\b",
    r"\b(?:this|that|it)(?:'s|\s+is|\s+all)?\s+(?:all\s+|really\s+|just\s+)?(?:about|because\s+of|"
    r"stems\s+from|comes\s+from|goes\s+back\s+to)\s+your\b",
    r"\b(?:that's|it's|this\s+is)\s+(?:just\s+)?because\s+(?:you|your)\b|\bdeep\s+down,?\s+you\b",
    r"\byou(?:'re|\s+are)\s+(?:just|only|clearly|obviously|simply)\s+(?!(?:so|as|a\s+bit|trying\s+to\s+"
    r"cope)\b)\w+|\b(?:clearly|obviously)\s+you\b",
    r"\byou(?:'re|\s+are)\s+(?:in\s+denial|projecting|transferring|re-?enacting|repeating\s+(?:your|the))\b",
    r"\b(?:that's|this\s+is|it's)\s+(?:your|a|classic|textbook)\s+(?:anxiety|depression|trauma|"
    r"attachment|ego|defen[cs]e|insecurity|pattern|projection|transference)\b|\bclassic\s+"
    r"(?:case|sign|example)\b|\byou\s+have\s+(?:abandonment|trust|commitment|anger|daddy|mummy|"
    r"mommy)\s+issues\b",
)
TENTATIVE = _rx(
    r"\b(?:it\s+)?sounds\s+(?:like|as\s+if)|\bit\s+seems|\bseems\s+like|\bI\s+wonder|"
    r"\bI(?:'m|\s+am)\s+wondering|\bmaybe\b|\bperhaps\b|\bI\s+guess\b|\bI\s+imagine|"
    r"\bI(?:'m|\s+am)\s+guessing|\bI\s+(?:get|have)\s+the\s+sense|\bI\s+sense\b|\bmight\b|"
    r"\bkind\s+of\b|\bsort\s+of\b|\bI(?:'m|\s+am)\s+not\s+(?:sure|certain)|\bcorrect\s+me|"
    r"\bis\s+that\s+(?:right|close|fair|it)|\bam\s+I\s+(?:getting|close|right|on)|\bhave\s+I\s+got|"
    r"\bdoes\s+(?:that|this|it)\s+(?:fit|sound\s+right|feel\s+right|ring\s+true|resonate)|"
    r"\bif\s+I(?:'ve)?\s+understood|\bcould\s+it\s+be|\bI\s+(?:could|may|might)\s+be\s+wrong|"
    r"\bit's\s+as\s+if|\bpart\s+of\s+you|\bis\s+it\s+possible|\bpossibly\b|\bI\s+suspect\b",
)
REFLECTION_ANYWHERE = _rx(
    r"\b(?:it\s+|that\s+)?sounds\s+(?:like|as\s+(?:if|though))\s+"
    r"(?!(?:a\s+)?(?:plan|good|great|fun|nice|fine|an?\s+idea)\b)",
    r"\b(?:it|that)\s+seems\s+(?:like|that|as\s+(?:if|though)|to\s+me)\b|\bseems\s+like\b",
    r"\bpart\s+of\s+you\b|\bon\s+(?:the\s+)?one\s+hand\b",
    r"\bwhat\s+I(?:'m|\s+am)\s+(?:hearing|getting|taking\s+from|understanding)\b|\bwhat\s+I\s+hear\b"
    r"|\bI(?:'m|\s+am)\s+hearing\b",
    r"\bI\s+(?:can\s+)?hear\s+(?:that|how|what|you(?:'re|\s+are|\s+say|\s+saying)|a\s+lot|some|"
    r"the|both|in\s+your|your|this|it)\b",
    r"\bI\s+(?:get|have)\s+the\s+(?:sense|feeling|impression)\b|\bI(?:'m|\s+am)\s+getting\s+the\s+"
    r"sense\b|\bI\s+sense\s+(?:that|you|some|a)\b",
    r"\bI(?:'m|\s+am)\s+(?:guessing|wondering\s+(?:if|whether)|imagining)\b|\bI\s+(?:wonder\s+"
    r"(?:if|whether)|imagine\s+(?:that|it|you|this)|can\s+imagine)\b",
    r"\bif\s+I(?:'ve|\s+have)?\s+(?:understood|understand|got\s+(?:that|this|it|you))\b"
    r"|\blet\s+me\s+(?:see\s+if|check\s+(?:if|that)\s+)I\b",
    r"\bit(?:'s|\s+is)\s+(?:almost\s+)?(?:like|as\s+if|as\s+though)\s+(?:you|part|there|nothing|"
    r"everything|no\s+one|nobody|the|your)\b",
)
REFLECTION_DECLARATIVE = _rx(
    r"^\W*(?:(?:mm+|hmm+|mhm|okay|ok|right|yeah|and)[,.]?\s+)*so\b,?\s+(?:the|your|this|these|those|"
    r"everything|all\s+of\s+(?:this|that|it))\s+(?!(?:next|first|best|plan|idea|question)\b)",
    r"^\W*(?:(?:mm+|hmm+|mhm|okay|ok|right|yeah|and)[,.]?\s+)*so\b,?\s+(?:you|for\s+you|it's\s+like|"
    r"part\s+of\s+you|what\s+you|there's|it's\s+been|this\s+has|that\s+(?:was|felt|left))\b",
    r"\byou(?:'re|\s+are|'ve\s+been|\s+have\s+been|\s+were|\s+was)?\s+(?:really\s+|still\s+|"
    r"just\s+|also\s+|quite\s+|so\s+|kind\s+of\s+|sort\s+of\s+)?(?:feel|feeling|felt)\b",
    r"\byou(?:'re|\s+are|'ve\s+been|\s+have\s+been|\s+were|\s+seem|\s+sound|\s+felt|\s+feel)\s+"
    r"(?:(?:really|still|so|quite|pretty|a\s+bit|a\s+little|kind\s+of|sort\s+of|very|also|both|"
    r"deeply|incredibly|completely|totally|more|less)\s+)*(?:" + EMOTIONS + r")\b",
    r"\byou(?:'re|\s+are)\s+(?:saying|telling\s+me|describing|wondering|torn|caught|stuck|"
    r"not\s+sure|unsure|struggling|carrying|holding|trying|finding|noticing|questioning|doubting|"
    r"dreading|missing|longing|hoping|waiting|bracing|at\s+a\s+loss|grieving|juggling|managing|"
    r"coping|left\s+with)\b",
    r"\byou(?:'ve|\s+have)\s+(?:been\s+(?:through|carrying|holding|dealing|struggling|trying|living|"
    r"managing|coping|putting\s+up|doing|left|waiting|hoping|keeping)|had\s+(?:to|a\s+lot|so\s+much|"
    r"enough))\b",
    r"\byou\s+(?:don't|do\s+not|didn't|did\s+not|can't|couldn't)\s+(?:know|want|feel|like|trust|"
    r"think|see|believe|understand|recogni[sz]e|remember|sleep|stop|bear|stand|face)\b",
    r"\byou\s+(?:want|wanted|wish|wished|hope|hoped|miss|missed|love|loved|hate|hated|worry|"
    r"worried|fear|feared|care|cared|regret|long|longed)\b",
    r"(?<!than )\byou(?:'ve)?\s+(?:said|mentioned|told\s+me|described|noticed|reali[sz]ed|think|"
    r"thought|believe|believed|decided|found|learned|learnt)\b",
    r"\bfor\s+you,?\s+(?:it's|it\s+is|this|that|the)\b|\byou\s+(?:seem|sound)\b"
    r"|\bthe\s+way\s+you\s+(?:describe|talk|say|tell)\b",
)
VALIDATION = _rx(
    r"\b(?:that|it|this)\s+(?:sounds|must\s+(?:be|have\s+been)|seems|is|was|'s)\s+(?:(?:really|so|"
    r"very|incredibly|quite|pretty|truly|such)\s+)*(?:hard|difficult|painful|tough|awful|"
    r"exhausting|frustrating|lonely|scary|frightening|overwhelming|confusing|upsetting|heavy|"
    r"stressful|horrible|terrible|rough|draining|isolating|heartbreaking|complicated|a\s+lot|"
    r"distressing|hurtful|unfair)\b",
    r"\bit\s+makes\s+(?:a\s+lot\s+of\s+|total\s+|complete\s+|so\s+much\s+)?sense\b|\bno\s+wonder\b"
    r"|\bof\s+course\s+you\b|\banyone\s+would\b|\bunderstandabl[ey]\b",
    r"\b(?:it's|that's|it\s+is|that\s+is)\s+(?:completely\s+|totally\s+|really\s+|perfectly\s+)?"
    r"(?:understandable|valid|natural|(?:okay|ok|normal)\s+to\s+feel|human)\b",
    r"\bI\s+can\s+(?:see|understand|imagine)\s+(?:why|how|that|what)\b",
    r"\bI(?:'m|\s+am)\s+(?:so\s+|really\s+|very\s+|truly\s+)?sorry\s+(?:you|that\s+(?:you|this|"
    r"happened)|to\s+hear|for\s+what|about\s+(?:what|your))\b",
    r"\bthank\s+you\s+for\s+(?:telling|sharing|trusting|saying|letting|being\s+(?:so\s+)?"
    r"(?:honest|open))\b|\bI\s+appreciate\s+you\s+(?:telling|sharing|saying|being)\b",
    r"\byou(?:'ve|\s+have)\s+been\s+through\s+(?:a\s+lot|so\s+much)\b|\byou(?:'re|\s+are)\s+not\s+"
    r"alone\b|\bit\s+took\s+(?:a\s+lot\s+of\s+)?courage\b|\bI\s+hear\s+you\b",
)
DISMISSAL = _rx(
    r"\bat\s+least\s+(?:you|it|he|she|they|there)\b|\bdon'?t\s+(?:worry|be\s+(?:so\s+)?(?:sad|upset|"
    r"silly|dramatic))\b",
    r"\b(?:it's|it\s+is|that's)\s+not\s+(?:that|so)\s+bad\b|\bcould\s+(?:be|have\s+been)\s+worse\b"
    r"|\blook\s+on\s+the\s+bright\s+side\b|\bcheer\s+up\b|\bcalm\s+down\b|\bget\s+over\s+it\b"
    r"|\bsnap\s+out\s+of\b",
    r"\b(?:you'll|you\s+will)\s+be\s+(?:fine|okay|ok|alright|all\s+right)\b|\b(?:it'll|it\s+will|"
    r"everything\s+will)\s+(?:all\s+)?(?:be\s+)?(?:fine|okay|ok|alright|work\s+out)\b",
    r"\beverything\s+happens\s+for\s+a\s+reason\b|\beveryone\s+(?:feels|goes\s+through|has)\s+"
    r"(?:that|this|it)\b|\bothers\s+have\s+it\s+worse\b|\bit's\s+all\s+in\s+your\s+head\b",
    r"\byou(?:'re|\s+are)\s+(?:overreacting|being\s+(?:dramatic|silly|too\s+sensitive)|too\s+"
    r"sensitive)\b|\byou\s+shouldn't\s+(?:feel|be\s+(?:so\s+)?(?:upset|sad|angry|worried))\b",
    r"\bthere's\s+no\s+(?:need|reason)\s+to\s+(?:feel|be|worry)\b|\bstop\s+(?:worrying|overthinking|"
    r"being\s+so)\b",
)
