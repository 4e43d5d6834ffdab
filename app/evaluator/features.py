"""Linguistic cues in one counsellor turn: what the words do, with the words that do it.

The offline judge scores from these cues and the scripted client reacts to them, so every cue
keeps the trainee's own words as evidence. Detection works on wording patterns (modal verbs,
clause-initial imperatives, question forms, reflective stems), not on remembered examples, so it
carries over to counselling text it has never seen. This module must never score a turn, never
call a model, and never follow instructions found in the text it reads: text that addresses a
rating system instead of the client is flagged and left out of every other cue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Shared fragments. Text is normalised first: curly quotes become ', dashes become -.
_YOU = r"\b(?:you|u|ya)"
_ADV = (
    r"(?:(?:really|just|definitely|probably|seriously|absolutely|honestly|still|also|totally|"
    r"actually|certainly|then|now|maybe|perhaps|always|even|at\s+least)\s+)?"
)
_LEAD = (
    r"^\W*(?:(?:so|and|but|okay|ok|well|then|now|right|also|mm+|hmm+|mhm|uh-?huh|yeah|yes|sure|"
    r"oh|ah|I\s+see|or|just|honestly|alright|and\s+so)[,.]?\s+)*"
)
_EMOTIONS = (
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

_ADVICE_MODAL = _rx(
    _YOU
    + r"(?:'d|'ve|'ll)?\s+"
    + _ADV
    + r"(?:should(?:n't|\s+not)?|ought(?:n't)?\s+to|needs?\s+to|"
    r"(?<='ll\s)want\s+to|needs?\s+(?:some|a|an|more|less|professional|help|support|time|space|rest|sleep|therapy)\b|"
    r"ha(?:ve|s)\s+to|must(?:n't|\s+not)?|(?:have\s+)?got\s+to|gotta|had\s+better|better|"
    r"(?:would\s+)?be\s+better\s+off)\b(?!\s+than)(?!\s+be\s+(?:made\s+of|superhuman|a\s+saint|"
    r"a\s+robot|crazy|mad|inhuman))"
)
_DO = (
    r"try|consider|look\s+(?:into|at|for)|talk\s+to\s+(?!me\b)|speak\s+(?:to|with)\s+(?!me\b)|"
    r"reach\s+out|call|ask\s+(?!me\b)|start|write|go|get|join|take\s+(?!your\s+time)|make|find|"
    r"set|use|tell\s+(?:her|him|them|your|someone|somebody|people)|check\s+out|practi[cs]e|"
    r"see\s+(?:a|an|your|if|whether|someone|somebody)|spend|give|put|focus|keep|stop|avoid|seek|"
    r"book|contact|email|text|visit|sign\s+up|schedule|plan|journal|meditate|exercise|allow|"
    r"remind|distract|treat|surround|leave|quit|block|delete|do\s+(?:something|some|a|more|less)"
)
_ADVICE_COULD = _rx(
    _YOU
    + r"\s+(?:could|can|might|may)\s+"
    + _ADV
    + r"(?:(?:want|wish|like)\s+to|find\s+it\s+(?:helpful|useful)|"
    + _DO
    + r")\b"
)
_ADVICE_QUESTION = _rx(
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
_ADVICE = _rx(
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
_IMPERATIVE = re.compile(
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


def _imperative_is_advice(verb: str, rest: str) -> bool:
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


_CLAUSE_BREAK = _rx(r"[,;:(]|\s-+\s|\b(?:but|and|so|or|then|though|although|however|because)\b")
_CLIENT_PERSPECTIVE = _rx(
    r"\b(?:you|you've|you're|you'd|yourself|they|people|everyone|everybody|someone|somebody|he|she|"
    r"your\s+\w+|others|society)\s+(?:\w+\s+){0,2}?(?:feel|feels|feeling|felt|think|thinks|"
    r"thinking|thought|believe|believes|believed|told|tell|tells|telling|say|says|saying|said|"
    r"expect|expects|expected|worry|worries|worried|fear|fears|sense|wonder|wondering|wish|hope|"
    r"know|knew|decided|heard|hear|learned|learnt|taught|convinced|sure|assume|assumed|imagine|"
    r"want|wants|wanted|demand|demanded|insist|insisted|grew\s+up|raised)\b",
    r"\bit\s+(?:feels|felt)\b|\b(?:as\s+if|as\s+though)\b|\bpart\s+of\s+you\b",
    r"\bthe\s+(?:idea|message|belief|sense|feeling|pressure|expectation|rule|voice|thought)\s+that\b",
)
_COUNSELLOR_OPINION = _rx(
    r"\bI\s+(?:really\s+|honestly\s+|do\s+|just\s+|still\s+|personally\s+|genuinely\s+)?(?:think|"
    r"feel|believe|reckon|guess|suppose|wonder|would\s+say|'m\s+sure|am\s+sure|know)\b",
    r"\b(?:maybe|perhaps|probably|I'd|I\s+would)\b",
)
_CONDITIONAL = _rx(r"\b(?:if|when|whenever|unless|whether|once|until|in\s+case)\b")
_AUX_BEFORE_YOU = _rx(
    r"\b(?:do|does|did|would|could|will|can|might|may|should|shall|have|had|are|were|don't|"
    r"didn't|doesn't)\s+$"
)

_INTERPRETATION = _rx(
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
_TENTATIVE = _rx(
    r"\b(?:it\s+)?sounds\s+(?:like|as\s+if)|\bit\s+seems|\bseems\s+like|\bI\s+wonder|"
    r"\bI(?:'m|\s+am)\s+wondering|\bmaybe\b|\bperhaps\b|\bI\s+guess\b|\bI\s+imagine|"
    r"\bI(?:'m|\s+am)\s+guessing|\bI\s+(?:get|have)\s+the\s+sense|\bI\s+sense\b|\bmight\b|"
    r"\bkind\s+of\b|\bsort\s+of\b|\bI(?:'m|\s+am)\s+not\s+(?:sure|certain)|\bcorrect\s+me|"
    r"\bis\s+that\s+(?:right|close|fair|it)|\bam\s+I\s+(?:getting|close|right|on)|\bhave\s+I\s+got|"
    r"\bdoes\s+(?:that|this|it)\s+(?:fit|sound\s+right|feel\s+right|ring\s+true|resonate)|"
    r"\bif\s+I(?:'ve)?\s+understood|\bcould\s+it\s+be|\bI\s+(?:could|may|might)\s+be\s+wrong|"
    r"\bit's\s+as\s+if|\bpart\s+of\s+you|\bis\s+it\s+possible|\bpossibly\b|\bI\s+suspect\b",
)
_REFLECTION_ANYWHERE = _rx(
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
_REFLECTION_DECLARATIVE = _rx(
    r"^\W*(?:so|and\s+so|okay\s+so|ok\s+so|right\s+so|mm,?\s+so)\b,?\s+(?:you|for\s+you|it's\s+like|"
    r"part\s+of\s+you|what\s+you|there's|it's\s+been|this\s+has|that\s+(?:was|felt|left))\b",
    r"\byou(?:'re|\s+are|'ve\s+been|\s+have\s+been|\s+were|\s+was)?\s+(?:really\s+|still\s+|"
    r"just\s+|also\s+|quite\s+|so\s+|kind\s+of\s+|sort\s+of\s+)?(?:feel|feeling|felt)\b",
    r"\byou(?:'re|\s+are|'ve\s+been|\s+have\s+been|\s+were|\s+seem|\s+sound|\s+felt|\s+feel)\s+"
    r"(?:(?:really|still|so|quite|pretty|a\s+bit|a\s+little|kind\s+of|sort\s+of|very|also|both|"
    r"deeply|incredibly|completely|totally|more|less)\s+)*(?:" + _EMOTIONS + r")\b",
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
_VALIDATION = _rx(
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
_DISMISSAL = _rx(
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
_QUESTION_OPEN = _rx(
    _LEAD + r"(?:what(?!\s+(?:you're|you\s+are|you've|I|I'm|I've)\b)|what's|whats|how|how's|why|"
    r"where|when|who|whom|whose|which|in\s+what\s+way|to\s+what\s+extent|how\s+come)\b"
    r"(?!\s+a\b)"
)
_QUESTION_CLOSED = _rx(
    _LEAD + r"(?:do|does|did|are|is|was|were|am|can|could|would|will|have|has|had|should|shall|may|"
    r"might|must|don't|doesn't|didn't|aren't|isn't|wasn't|weren't|can't|couldn't|wouldn't|won't|"
    r"haven't|hasn't|shouldn't)\b"
)
_OPEN_LEADING = _rx(
    r"\bI(?:'m|\s+am)\s+(?:curious|wondering)\s+(?:about|what|how|why|where|when)\b",
    r"\bI\s+wonder\s+(?:what|how|why|where)\b",
)
_ELABORATION_PROMPT = _rx(
    r"\btell\s+me\s+(?:more|about|what|how|why|a\s+(?:bit|little)|something|when|where|whatever)\b",
    r"\b(?:say|share)\s+(?:a\s+(?:bit|little)\s+|some(?:thing)?\s+)?more\b",
    r"\b(?:could|can|would|will)\s+you\s+(?:please\s+|maybe\s+|perhaps\s+)?(?:say|tell\s+me|describe|"
    r"share|talk\s+(?:about|more|me)|explain|help\s+me\s+understand|walk\s+me\s+through|"
    r"give\s+me\s+(?:an?|some)\s+(?:example|sense|idea)|expand|elaborate|put\s+(?:that|it)\s+into\s+"
    r"words)\b",
    r"\b(?:would|do)\s+you\s+(?:like|want|wanna|be\s+willing)\s+to\s+(?:say|tell|talk|share|"
    r"describe|explain|go\s+into)\b",
    r"^\W*(?:describe|elaborate|go\s+on|say\s+more|and\s+then|such\s+as|like\s+what|for\s+example|"
    r"how\s+so|meaning|in\s+what\s+way)\b",
    r"\btalk\s+(?:to|with)\s+me\s+(?:about|more)\b|\bis\s+there\s+(?:anything|something|more)\b",
    r"\b(?:help|walk|talk|take)\s+me\s+through\b|\bhelp\s+me\s+understand\b|\bwhat\s+else\b|\banything\s+else\b"
    r"|\bmore\s+about\s+(?:that|this|what|how)\b",
)
_ELABORATION_STATEMENT = _rx(
    r"\bI(?:'m|\s+am)\s+(?:here|all\s+ears|happy\s+to\s+listen|listening)\s*(?:if|whenever|when|"
    r"for\s+you|to\s+listen)",
    r"\bfeel\s+free\s+to\s+(?:share|tell|talk|say|vent|go\s+on|keep\s+going)\b",
    r"\bif\s+you\s+(?:want|'d\s+like|would\s+like|feel\s+like|ever\s+want|need)\s+to\s+(?:talk|share|"
    r"say\s+more|tell\s+me|vent|go\s+on)\b",
    r"\bI(?:'d|\s+would)\s+(?:like|love|really\s+like)\s+to\s+(?:hear|know|understand)\b"
    r"|\bI(?:'m|\s+am)\s+(?:curious|interested)\b",
)
_COLLABORATION = re.compile(
    r"(?P<process>"
    r"\bhow\s+(?:does|is|was|did)\s+(?:it|this|that)\s+(?:\w+\s+){0,4}?(?:when|that|as|if)\s+we\b"
    r"|\bhow\s+(?:is|was|does)\s+(?:this|it|that)\s+(?:going|working|feeling|sitting|landing|feel)"
    r"\s+for\s+you\b"
    r"|\bhow\s+(?:is|was)\s+it\s+(?:for\s+you\s+)?(?:to\s+)?(?:talk|be\s+talking|talking|hear|"
    r"be\s+here|sit)\b"
    r"|\b(?:would\s+it\s+be|is\s+it|would\s+you\s+be)\s+(?:okay|ok|alright|all\s+right|helpful|"
    r"useful|open)\s+(?:with\s+you\s+)?(?:if|to|for)\b"
    r"|\bwhat\s+would\s+you\s+(?:like|want|prefer|find\s+(?:most\s+)?(?:helpful|useful))\b"
    r"|\bwhat\s+do\s+you\s+(?:want|need|hope)\s+(?:to\s+(?:focus|talk|start|look|use|get|work|take)"
    r"|from\s+(?:today|this|our|me|us|the\s+session))\b"
    r"|\bwhat\s+would\s+be\s+(?:most\s+|more\s+|the\s+most\s+)?(?:helpful|useful|important)\b"
    r"|\bhow\s+would\s+you\s+like\s+(?:to|us\s+to|me\s+to)\b"
    r"|\bwhere\s+(?:would|do)\s+you\s+(?:like|want)\s+to\s+(?:start|begin|go|take\s+(?:this|it))\b"
    r"|\bshall\s+we\b|\bshould\s+we\b|\bcould\s+we\b|\bcan\s+we\s+(?:look|think|explore|try|stay|"
    r"come\s+back|work)\b"
    r"|\bwould\s+you\s+(?:like|want)\s+(?:to|me\s+to|us\s+to)\b"
    r"|\bdo\s+you\s+want\s+(?:me\s+to|us\s+to|to\s+(?:start|focus|stay|look|come\s+back|go|keep|"
    r"stop|try|spend|use|slow))\b"
    r"|\bwhat\s+(?:feels|seems)\s+(?:most\s+)?(?:right|important|useful|helpful)\s+(?:for|to)\s+you\b"
    r"|\b(?:we|let's)\s+(?:could\s+|can\s+|might\s+)?(?:\w+\s+){0,4}together\b"
    r"|\b(?:can|could|may|might)\s+I\s+(?:share|offer|suggest|make\s+a\s+suggestion|give\s+you|"
    r"tell\s+you\s+(?:what|something|how)|add|ask|check|reflect|say)\b"
    r"|\b(?:would|do)\s+you\s+(?:like|want|be\s+open\s+to)\s+(?:some|a\s+few|my|an?)\s+(?:ideas?|"
    r"suggestions?|thoughts?|advice|tips?|options?|information)\b"
    r"|\bhow\s+(?:are\s+you\s+finding|do\s+you\s+find)\s+(?:this|our|it|talking|the\s+session)\b"
    r")|(?P<check>"
    r"\bdoes\s+(?:that|this|it|any\s+of\s+that)\s+(?:fit|sound\s+right|feel\s+right|ring\s+true|"
    r"resonate|make\s+sense|capture|seem\s+right|come\s+close|match)\b"
    r"|\b(?:am\s+I|have\s+I)\s+(?:getting|got|understood|understanding|heard|read)\b"
    r"|\bam\s+I\s+(?:close|right|on\s+(?:the\s+right\s+)?track|off|missing)\b"
    r"|\bis\s+that\s+(?:right|fair|close|accurate|it|how\s+it\s+(?:is|feels)|what\s+you\s+mean)\b"
    r"|\bcorrect\s+me\b|\blet\s+me\s+know\s+if\b|\btell\s+me\s+if\s+I\b|\bstop\s+me\s+if\b"
    r"|\bhow\s+does\s+(?:that|this)\s+(?:sound|land|sit|feel)\b"
    r"|\bwhat\s+do\s+you\s+make\s+of\b|\bwhat(?:'s|\s+is)\s+your\s+(?:sense|take|view|feeling|read)\b"
    r"|\bwhat\s+do\s+you\s+think\b|\bdid\s+I\s+(?:get|understand|hear)\s+(?:that|it|this|you)\b"
    r")|(?P<autonomy>"
    r"\b(?:it's|that's|it\s+is|that\s+is)\s+(?:completely\s+|entirely\s+|totally\s+|really\s+)?"
    r"(?:up\s+to\s+you|your\s+(?:call|choice|decision))\b"
    r"|\byou\s+know\s+(?:yourself|your\s+(?:life|situation|own\s+mind))\s+(?:best|better)\b"
    r"|\byou(?:'re|\s+are)\s+the\s+(?:expert|best\s+judge)\s+(?:on|of|in)\s+your\b"
    r"|\byou\s+(?:get\s+to|can)\s+(?:decide|choose)\b"
    r"|\b(?:in\s+your\s+own\s+time|at\s+your\s+(?:own\s+)?pace|whenever\s+you're\s+ready|"
    r"when\s+you're\s+ready|only\s+if\s+you\s+want)\b"
    r"|\byou\s+don't\s+(?:have|need)\s+to\s+(?:talk|say|go\s+(?:into|there)|share|answer|decide|"
    r"tell|explain|rush|do\s+anything)\b"
    r"|\bfeel\s+free\b|\btake\s+your\s+time\b|\bno\s+pressure\b|\btake\s+it\s+or\s+leave\s+it\b"
    r")",
    _I,
)
_PERMISSION = _rx(
    r"\b(?:can|could|may|might)\s+I\s+(?:share|offer|suggest|make\s+a\s+suggestion|give\s+you|"
    r"tell\s+you\s+(?:what|something))\b",
    r"\b(?:would|do)\s+you\s+(?:like|want|be\s+open\s+to)\s+(?:some|a\s+few|my|an?)\s+(?:ideas?|"
    r"suggestions?|thoughts?|advice|tips?|options?|information)\b",
    r"\bwould\s+it\s+be\s+(?:okay|ok|alright|all\s+right|helpful)\s+if\s+I\b",
    r"\bif\s+you(?:'d|\s+would)?\s+(?:like|want)\b|\bup\s+to\s+you\b|\byou\s+know\s+yourself\s+best\b"
    r"|\btake\s+it\s+or\s+leave\s+it\b|\bsee\s+(?:if|whether)\s+(?:it|that|any\s+of\s+it)\s+fits\b"
    r"|\bsome\s+people\s+find\b|\byour\s+(?:call|choice|decision)\b|\bno\s+pressure\b",
)
_IMMEDIACY = _rx(
    r"\bright\s+now\b|\bjust\s+now\b|\bin\s+this\s+(?:room|moment|session|conversation)\b|\bin\s+here\b"
    r"|\bat\s+this\s+moment\b|\bin\s+the\s+moment\b",
    r"\bhere\s+with\s+(?:me|you)\b|\bbetween\s+(?:us|you\s+and\s+me|the\s+two\s+of\s+us)\b"
    r"|\bwith\s+me\b|\bthe\s+two\s+of\s+us\b",
    r"\bas\s+(?:we|you)\s+(?:talk|speak|sit|say|tell|describe|share)\b",
    r"\bI\s+(?:notice|noticed|'m\s+noticing|am\s+noticing|'m\s+aware|am\s+aware|'m\s+struck|"
    r"am\s+struck|find\s+myself|'m\s+finding\s+myself)\b",
    r"\bour\s+(?:relationship|work\s+together|conversation)\b|\bhow\s+we(?:'re|\s+are)\s+"
    r"(?:working|talking|doing)\b",
)
_SELF_INVOLVING = _rx(
    r"\bI(?:'m|\s+am)\s+(?:really\s+|still\s+|right\s+|genuinely\s+|definitely\s+)?(?:listening|here|"
    r"with\s+you|not\s+going\s+anywhere|glad|moved|touched|grateful|honou?red|concerned|"
    r"worried\s+about\s+you|on\s+your\s+side|paying\s+attention|interested)\b",
    r"\bI\s+(?:do\s+|really\s+|genuinely\s+)?(?:care|feel|felt|appreciate|value|respect|admire|"
    r"mean\s+(?:it|that))\b",
    r"\bI\s+want\s+to\s+(?:understand|hear|know|help|get\s+this\s+right|be\s+(?:honest|straight|clear))\b",
    r"\b(?:honestly|to\s+be\s+honest|truthfully|if\s+I'm\s+honest|I'll\s+be\s+honest|in\s+all\s+"
    r"honesty|to\s+be\s+straight\s+with\s+you)\b",
    r"\b(?:yes|yeah),?\s+I\s+(?:am|do|was|did|have|can|will)\b",
    r"\bI\s+(?:don't|do\s+not)\s+know\b|\bI(?:'m|\s+am)\s+not\s+(?:sure|certain)\b|\bI\s+(?:can't|"
    r"cannot)\s+promise\b|\bI(?:'m|\s+am)\s+(?:a\s+)?(?:trainee|student|still\s+learning)\b",
)
_OWNING = _rx(
    r"\bI\s+(?:got\s+(?:that|it|this)\s+wrong|was\s+wrong|missed|misunderstood|misread|went\s+too\s+"
    r"(?:fast|far|quickly)|pushed|jumped\s+(?:in|ahead|to)|rushed|didn't\s+(?:get|understand|hear|"
    r"listen|mean|notice|reali[sz]e)|wasn't\s+(?:listening|clear|fair|careful)|cut\s+you\s+off|"
    r"interrupted|made\s+(?:a|an|that)\s+(?:assumption|mistake)|should\s+have|shouldn't\s+have|"
    r"(?:may|might)\s+have\s+(?:missed|pushed|got|rushed))\b",
    r"\bI(?:'m|\s+am)\s+(?:really\s+)?sorry\s+(?:I|that\s+I|if\s+I|for\s+(?:that|getting|missing|"
    r"pushing|rushing|not))\b|\bmy\s+(?:mistake|bad|fault)\b|\bthat(?:'s|\s+was|\s+is)\s+on\s+me\b",
    r"\bfair\s+(?:point|enough|question|challenge)\b|\bthat's\s+a\s+(?:fair|good|really\s+fair|"
    r"reasonable|important|real)\s+question\b|\byou(?:'re|\s+are)\s+right\s+(?:to|that)\b",
)
_DEFENSIVE = _rx(
    r"\bI\s+know\s+what\s+I(?:'m|\s+am)\s+doing\b|\bI\s+(?:have|'ve\s+got|'ve\s+had)\s+(?:years\s+of|"
    r"a\s+lot\s+of|plenty\s+of)\s+(?:experience|training)\b|\bI\s+assure\s+you\b|\btrust\s+me\b",
    r"\bI\s+(?:did|do|was)\s+(?:listen|listening)\b|\bthat's\s+not\s+(?:true|fair|what\s+I\s+said)\b"
    r"|\bI\s+never\s+said\b|\byou(?:'re|\s+are)\s+(?:wrong|being\s+(?:unfair|rude|difficult))\b"
    r"|\bthere's\s+no\s+need\s+to\s+be\s+(?:rude|like\s+that)\b|\bI\s+don't\s+appreciate\b",
)
_TIME_BOUNDARY = _rx(
    r"\bwe(?:'ve|\s+have)\s+(?:got\s+)?(?:about\s+|around\s+|only\s+|just\s+)?(?:\d+|a\s+few|"
    r"a\s+couple\s+of|one|two|three|four|five|ten|fifteen|twenty)\s+(?:more\s+)?minutes?\b",
    r"\b(?:\d+|a\s+few|a\s+couple\s+of|one|two|three|five|ten|fifteen)\s+minutes?\s+(?:left|"
    r"remaining|to\s+go)\b",
    r"\bour\s+time\b|\b(?:time\s+is|time's)\s+(?:up|nearly\s+up|almost\s+up|running\s+out)\b"
    r"|\bout\s+of\s+time\b|\b(?:nearly|almost)\s+(?:time|at\s+the\s+end)\b|\btowards?\s+the\s+end\b"
    r"|\bend\s+of\s+(?:our|the|today's|this)\s+session\b",
    r"\b(?:we'll|we\s+will|we'd|we\s+would|we|I'll|I\s+will|I)\s+(?:need\s+to|have\s+to|must|"
    r"should|'re\s+going\s+to\s+have\s+to|are\s+going\s+to\s+have\s+to)\s+(?:stop|finish|end|wrap|"
    r"close|pause|leave\s+it)\b",
    r"\b(?:end|finish|stop)\s+on\s+time\b|\bnext\s+(?:session|time|week|appointment)\b"
    r"|\bbefore\s+we\s+(?:finish|stop|end|close|wrap)\b|\bcome\s+back\s+to\s+(?:this|that|it)\b"
    r"|\bpick\s+(?:this|that|it)\s+(?:back\s+)?up\b|\bwrap\s+(?:things\s+)?up\b",
    r"\b(?:run|go|running|going)\s+over\s+(?:time|our\s+time|the\s+time|today)\b|\bcan't\s+"
    r"(?:run|go)\s+over\b|\bthe\s+session\s+(?:ends|is\s+ending|finishes)\b|\bleave\s+it\s+there\b",
)
_CONFIDENTIALITY = _rx(
    r"\bconfidential(?:ity)?\b|\bsafeguarding\b|\bsupervis(?:ion|or)\b|\bprivacy\b",
    r"\b(?:stays?|remains?|kept|keep\s+(?:it|this|that))\s+(?:between\s+(?:us|you\s+and\s+me|"
    r"the\s+two\s+of\s+us)|private|in\s+this\s+room|here)\b",
    r"\bI(?:'d|\s+would|'ll|\s+will|\s+might|\s+may|\s+can)?\s+(?:have|need|be\s+required|"
    r"be\s+obliged)\s+to\s+(?:share|tell|report|pass|inform|break|let\s+someone|contact)\b"
    r"(?!\s+you\b)",
    r"\b(?:you|someone|anyone|somebody|a\s+child|others)(?:\s+else)?\s+(?:were|was|is|are|"
    r"might\s+be|may\s+be|could\s+be)\s+(?:at\s+(?:serious\s+)?risk|in\s+(?:serious\s+)?danger)\b"
    r"|\brisk\s+of\s+(?:serious\s+)?harm\b",
    r"\b(?:my|the|session)\s+notes\b|\bwho\s+(?:else\s+)?(?:sees|can\s+see|reads|has\s+access)\b",
)
_FRAME_YIELD = _rx(
    r"\btake\s+as\s+long\s+as\s+you\s+(?:need|want|like)\b|\bno\s+rush\b",
    r"\b(?:we\s+can|let's|happy\s+to|I\s+can|I(?:'m|\s+am)\s+happy\s+to)\s+(?:go|run|stay|"
    r"keep\s+going|carry\s+on|continue)\s+(?:over|a\s+bit\s+longer|longer|a\s+few\s+more\s+"
    r"minutes|late|past\s+(?:the\s+)?time|as\s+long)\b",
    r"\b(?:don't|do\s+not|no\s+need\s+to)\s+worry\s+about\s+(?:the\s+)?(?:time|clock)\b"
    r"|\bforget\s+(?:about\s+)?the\s+(?:time|clock)\b",
    r"\bI\s+(?:won't|will\s+not|would\s+never|'d\s+never|never|promise\s+not\s+to)\s+(?:tell|share|"
    r"say|repeat)\s+(?:anyone|anybody|a\s+soul|this|it|that)\b|\b(?:completely|totally|100%|"
    r"absolutely|entirely)\s+(?:confidential|private|secret)\b|\bno\s+one\s+(?:will|would|else\s+"
    r"will)\s+(?:ever\s+)?(?:know|find\s+out)\b|\bour\s+(?:little\s+)?secret\b",
    r"\b(?:I\s+can|I'll|let\s+me)\s+give\s+you\s+my\s+(?:number|personal|email|mobile)\b"
    r"|\btext\s+me\s+(?:any\s*time|whenever)\b",
)
_RIGID = _rx(
    r"\brules\s+are\s+rules\b|\bthat's\s+the\s+rule\b|\bit's\s+(?:the|our)\s+policy\b"
    r"|\bI\s+don't\s+make\s+the\s+rules\b|\bnon-negotiable\b|\bno\s+exceptions\b",
    r"\bI\s+(?:already\s+)?told\s+you\b|\bas\s+I\s+(?:already\s+)?said\b|\blike\s+I\s+said\b"
    r"|\bwe(?:'re|\s+are)\s+done\b|\byou\s+(?:need|have)\s+to\s+(?:leave|go)\s+now\b"
    r"|\bthat's\s+not\s+(?:my\s+problem|allowed)\b|\bI\s+(?:can't|cannot)\s+help\s+you\s+with\s+that\b",
)
_SELF_DISCLOSURE = _rx(
    r"\bwhen\s+I\s+was\b|\bI\s+(?:went|'ve\s+been|have\s+been|had\s+been)\s+through\b"
    r"|\bsame\s+(?:thing\s+)?happened\s+to\s+me\b|\bme\s+too\b|\bin\s+my\s+(?:own\s+)?"
    r"(?:experience|life)\b|\bI\s+know\s+(?:exactly\s+)?how\s+you\s+feel\b",
    r"\bI(?:'ve|\s+have)\s+(?:had|experienced|dealt\s+with|felt)\s+(?:the\s+same|something\s+similar|"
    r"that\s+too|this\s+too|that\s+myself)\b|\bmy\s+(?:own\s+)?(?:ex|mum|mom|dad|father|mother|"
    r"husband|wife|partner|boyfriend|girlfriend|brother|sister|kids?|daughter|son)\b",
)
_EVASIVE_HANDOFF = _rx(
    r"\blet's\s+(?:focus|keep\s+the\s+focus|bring\s+it\s+back)\s+(?:on|to)\s+you\b"
    r"|\b(?:it's|this\s+is)\s+not\s+about\s+me\b|\bthis\s+isn't\s+about\s+me\b"
    r"|\bwe(?:'re|\s+are)\s+here\s+to\s+talk\s+about\s+you\b",
    r"\bwhat\s+I\s+think\s+(?:doesn't|does\s+not)\s+matter\b|\bit\s+doesn't\s+matter\s+what\s+I\s+"
    r"think\b|\bit's\s+not\s+(?:my\s+place|for\s+me)\s+to\b|\bI\s+(?:can't|cannot)\s+(?:answer|say|"
    r"tell\s+you)\s+that\b|\bI(?:'m|\s+am)\s+not\s+(?:here|allowed)\s+to\b|\bwhat\s+matters\s+is\s+"
    r"what\s+you\b",
)
# Text aimed at a rating system rather than the client. Flagged, excluded, never obeyed.
_INJECTION = _rx(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|the|any|your|previous|prior|above|"
    r"these|those|earlier|other)\s+)*(?:instructions?|rubric|rules?|prompts?|guidelines|scoring|"
    r"criteria|system|directions)\b",
    r"\b(?:rate|score|grade)\s+(?:me|my|every|each|all)\b|\bgive\s+(?:me|this(?:\s+turn|\s+reply|"
    r"\s+response)?)\s+(?:a\s+|all\s+|full\s+|top\s+)?(?:3s?|threes?|full\s+marks|top\s+marks|"
    r"max(?:imum)?|perfect|high(?:est)?)\b",
    r"\b(?:system\s+prompt|rubric|evaluator|the\s+judge|grader|direction_balance|power_awareness|"
    r"language\s+model|as\s+an\s+ai|you\s+are\s+now)\b|\b(?:every|each|all)\s+dimensions?\b",
    r"(?:^|\n)\s*(?:system|assistant|judge|evaluator)\s*:|</?(?:system|instructions?|prompt)>",
)
_JSON_BLOCK = re.compile(r"```[a-z]*|\{[^{}]*\"[A-Za-z_]+\"\s*:[^{}]*\}", _I)
_FILLERS = _words(
    "mm mmm mhm hmm hm uh huh ok okay right i see yes yeah yep sure alright got it understand "
    "understood ah oh aha mmhmm true cool fair enough indeed of course"
)
_STOPWORDS = _words(
    "the and but you your you're i'm it's that this with have has had was were are is for not "
    "just what how why when where who can could would should will like really so very about "
    "from they them then than there their been being into out all any some get got feel feeling "
    "know think me my myself yourself one too also it its him her his she he we our us don't "
    "didn't can't i've i'd i'll you've you'd okay yeah"
)

_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"')\]]*|\n|$)")
_WORD = re.compile(r"[a-z']+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPAN_LIMIT = 200
_QUESTION_TAIL = re.compile(
    r"(?:\s-+\s*|[,;]\s+)(?=(?:and\s+|so\s+)?(?:what|how|why|where|when|who|which)\s+(?:do|does|"
    r"did|is|are|was|were|has|have|had|would|could|can|will|might|made|makes|happened)\b[^.!]*\?)",
    re.I,
)
_AFTER_CONDITION = re.compile(
    r"\b(?:if|when|whenever|once|until|unless|than|as|in\s+case)\s+$", re.I
)
_SOFTENED = re.compile(r"\b(?:maybe|perhaps)\b", re.I)


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing the words do. `span` is what matched; `sentence` is the trainee's sentence."""

    kind: str
    span: str
    sentence: str


@dataclass(frozen=True, slots=True)
class TurnFeatures:
    """What a counsellor turn does, each cue with the words that show it."""

    text: str
    said: str
    word_count: int
    advice: tuple[Cue, ...] = ()
    permission: tuple[Cue, ...] = ()
    interpretation: tuple[Cue, ...] = ()
    open_questions: tuple[Cue, ...] = ()
    closed_questions: tuple[Cue, ...] = ()
    elaboration: tuple[Cue, ...] = ()
    reflections: tuple[Cue, ...] = ()
    tentative: tuple[Cue, ...] = ()
    validation: tuple[Cue, ...] = ()
    dismissal: tuple[Cue, ...] = ()
    collaboration: tuple[Cue, ...] = ()
    immediacy: tuple[Cue, ...] = ()
    self_involving: tuple[Cue, ...] = ()
    owning: tuple[Cue, ...] = ()
    defensive: tuple[Cue, ...] = ()
    time_boundary: tuple[Cue, ...] = ()
    confidentiality: tuple[Cue, ...] = ()
    frame_yield: tuple[Cue, ...] = ()
    rigid: tuple[Cue, ...] = ()
    self_disclosure: tuple[Cue, ...] = ()
    minimal: bool = False
    only_questions: bool = False
    deflects: bool = False
    mirrors: bool = False
    addresses_judge: bool = False

    @property
    def gives_advice(self) -> bool:
        return bool(self.advice)

    @property
    def encourages_elaboration(self) -> bool:
        """Open questions, prompts to say more, and invitations to keep talking."""
        return bool(self.elaboration)

    @property
    def reflects(self) -> bool:
        return bool(self.reflections)

    @property
    def invites_collaboration(self) -> bool:
        return bool(self.collaboration)

    @property
    def imposes_interpretation(self) -> bool:
        return bool(self.interpretation)

    @property
    def directive(self) -> bool:
        """Advice, or meaning imposed from authority: the over-directing trap."""
        return bool(self.advice or self.interpretation)

    @property
    def present(self) -> bool:
        """The counsellor shows up as a person: here-and-now, self-involving or owning a part."""
        return bool(self.immediacy or self.self_involving or self.owning)

    @property
    def addresses_frame(self) -> bool:
        return bool(self.time_boundary or self.confidentiality or self.frame_yield)

    @property
    def tentative_reflection(self) -> bool:
        return bool(self.reflections and self.tentative)

    @property
    def collaboration_kinds(self) -> frozenset[str]:
        return frozenset(cue.kind for cue in self.collaboration)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for chunk in _SENTENCE.findall(text):
        # "You mentioned your sister - how is she involved?" holds a statement and a question.
        out += [part.strip() for part in _QUESTION_TAIL.split(chunk)]
    return [s for s in out if s.strip(" \t\r\n.!?…\"')")]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SPAN_LIMIT else text[: _SPAN_LIMIT - 1].rstrip() + "…"


def _cue(kind: str, match: re.Match[str], sentence: str, *, clause: bool = True) -> Cue:
    """A cue for `match`; with `clause`, the span runs on to the end of its clause."""
    end = match.end()
    if clause:
        stop = re.search(r"[,;.!?]", sentence[end:])
        end = min(len(sentence), end + (stop.start() if stop else len(sentence)), end + 120)
    span = sentence[match.start() : end].strip(" ,;:-")
    return Cue(kind=kind, span=_clip(span), sentence=_clip(sentence))


def _sentence_kind(sentence: str) -> str:
    """'open', 'closed', 'tag' (a statement said as a question) or 'statement'."""
    asks = sentence.rstrip("\"') ").endswith("?")
    if _ELABORATION_PROMPT.search(sentence) or _OPEN_LEADING.search(sentence):
        return "open"
    if _ADVICE_QUESTION.search(sentence) and asks:
        return "closed"
    if _QUESTION_OPEN.match(sentence) and (asks or _looks_like_unpunctuated_question(sentence)):
        return "open"
    if _QUESTION_CLOSED.match(sentence) and (
        asks or re.match(r"\W*\w+\s+(?:you|i|we|it|that|this|there|they)\b", sentence, re.I)
    ):
        return "closed"
    return "tag" if asks else "statement"


def _is_question(sentence: str) -> bool:
    if sentence.rstrip("\"') ").endswith("?"):
        return True
    return _looks_like_unpunctuated_question(sentence)


def _looks_like_unpunctuated_question(sentence: str) -> bool:
    # Chat text often drops the question mark; a wh-word followed by an auxiliary still asks.
    return bool(
        re.match(
            r"\W*(?:what|how|why|where|when|who|which)(?:'s|\s+(?:do|does|did|is|are|was|were|has|"
            r"have|had|would|could|can|will|should|might|made|makes|happened|happens|brings|"
            r"brought|led|else|kind|sort|part|comes|came))\b",
            sentence,
            re.I,
        )
    )


def _window(sentence: str, end: int) -> str:
    """The clause leading up to `end`: from the last clause break before it."""
    start = 0
    for brk in _CLAUSE_BREAK.finditer(sentence, 0, end):
        start = brk.end()
    return sentence[start:end]


def _modal_is_advice(sentence: str, match: re.Match[str]) -> bool:
    """'You should…' is advice unless it voices the client's own view, a condition or a question."""
    window = _window(sentence, match.start())
    if _CLIENT_PERSPECTIVE.search(window):
        return False  # "you feel you should be stronger" reflects a belief; it does not prescribe
    if _COUNSELLOR_OPINION.search(window):
        return True  # "I think you should", "maybe you need to": the counsellor's prescription
    if _CONDITIONAL.search(window):
        return False  # "if you need to talk" is an offer, not an instruction
    return not _AUX_BEFORE_YOU.search(window)  # "what do you need to feel safe?" asks


def _advice(sentence: str, kind: str) -> list[Cue]:
    cues: list[Cue] = []
    if kind != "open" or not _ELABORATION_PROMPT.search(sentence):
        cues += [_cue("advice", m, sentence, clause=True) for m in _ADVICE.finditer(sentence)]
    cues += [_cue("advice", m, sentence, clause=True) for m in _ADVICE_QUESTION.finditer(sentence)]
    for pattern in (_ADVICE_MODAL, _ADVICE_COULD):
        cues += [
            _cue("advice", m, sentence, clause=True)
            for m in pattern.finditer(sentence)
            if _modal_is_advice(sentence, m)
        ]
    asks = sentence.rstrip("\"') ").endswith("?")
    for m in _IMPERATIVE.finditer(sentence):
        if asks and not _SOFTENED.search(m.group(0)):
            continue  # "Make sense?" checks; "Maybe talk to him?" still suggests
        if _imperative_is_advice(m.group("verb"), sentence[m.end("verb") :]):
            cues.append(_cue("advice", m, sentence, clause=True))
    return cues


def _interpretations(sentence: str, kind: str) -> tuple[list[Cue], list[Cue]]:
    """Imposed interpretations, and tentative ones (offered for the client to correct)."""
    imposed: list[Cue] = []
    offered: list[Cue] = []
    for m in _INTERPRETATION.finditer(sentence):
        softened = _TENTATIVE.search(sentence[: m.start()]) or kind != "statement"
        (offered if softened else imposed).append(_cue("interpretation", m, sentence, clause=True))
    return imposed, offered


def _reflections(sentence: str) -> list[Cue]:
    # "Go for a walk when you feel low" describes a condition, not the client's experience.
    return [
        _cue("reflection", m, sentence)
        for m in _REFLECTION_DECLARATIVE.finditer(sentence)
        if not _AFTER_CONDITION.search(sentence[max(0, m.start() - 12) : m.start()])
    ]


def _all(pattern: re.Pattern[str], kind: str, sentence: str) -> list[Cue]:
    return [_cue(kind, m, sentence) for m in pattern.finditer(sentence)]


def _strip_judge_talk(text: str) -> tuple[str, bool]:
    """Remove text aimed at a rating system (instructions, fake JSON); it is data, never obeyed."""
    cleaned = text
    for _ in range(5):  # nested objects come away from the inside out
        stripped = _JSON_BLOCK.sub(" ", cleaned)
        if stripped == cleaned:
            break
        cleaned = stripped
    kept = [s for s in _sentences(cleaned) if not _INJECTION.search(s)]
    flagged = (
        cleaned != text or len(kept) != len(_sentences(cleaned)) or bool(_INJECTION.search(text))
    )
    return "\n".join(kept), flagged


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def _is_minimal(text: str) -> bool:
    words = _WORD.findall(text.lower())
    if not words:
        return True
    return (len(words) <= 4 and " ".join(words) in _FILLERS) or (
        len(words) <= 3 and all(w in _FILLERS for w in words)
    )


def _client_asked(client_last: str) -> bool:
    return "?" in client_last or bool(
        re.search(
            r"\b(?:tell me what to do|you tell me|what (?:would|should) (?:you|i) do)\b",
            client_last,
            re.I,
        )
    )


def analyse_turn(text: str, *, client_last: str = "") -> TurnFeatures:
    """Find what a counsellor turn does. `client_last` (optional) lets deflection be seen."""
    normalised = text.translate(_QUOTES)
    clean, addresses_judge = _strip_judge_talk(normalised)
    found: dict[str, list[Cue]] = {}

    def add(name: str, cues: Iterable[Cue]) -> None:
        found.setdefault(name, []).extend(cues)

    asks: list[bool] = []
    for sentence in _sentences(clean):
        kind = _sentence_kind(sentence)
        asks.append(kind == "tag" or _is_question(sentence))
        if kind == "open":
            add("open_questions", [Cue("open_question", _clip(sentence), _clip(sentence))])
        elif kind == "closed":
            add("closed_questions", [Cue("closed_question", _clip(sentence), _clip(sentence))])
        add("advice", _advice(sentence, kind))
        imposed, offered = _interpretations(sentence, kind)
        add("interpretation", imposed)
        add("reflections", [Cue("tentative_interpretation", c.span, c.sentence) for c in offered])
        add("reflections", _all(_REFLECTION_ANYWHERE, "reflection", sentence))
        if kind in ("statement", "tag"):
            add("reflections", _reflections(sentence))
        add("elaboration", _all(_ELABORATION_STATEMENT, "invitation", sentence))
        for name, pattern in _SIMPLE:
            add(name, _all(pattern, name, sentence))
        for m in _COLLABORATION.finditer(sentence):
            group = next((g for g, v in m.groupdict().items() if v), "process")
            add("collaboration", [_cue(group, m, sentence)])
    found["elaboration"] = found.get("open_questions", []) + found.get("elaboration", [])

    only_questions = bool(asks) and all(asks)
    answered = bool(found.get("self_involving") or found.get("owning"))
    evasive = bool(_EVASIVE_HANDOFF.search(clean))
    deflects = _client_asked(client_last) and not answered and (only_questions or evasive)
    words = _content_words(clean)
    echoed = words & _content_words(client_last)
    mirrors = (
        bool(client_last)
        and len(words) >= 2
        and len(echoed) >= 0.7 * len(words)
        and not (found.get("elaboration") or found.get("collaboration") or answered)
    )
    return TurnFeatures(
        text=text,
        said=" ".join(clean.split()),
        word_count=len(_WORD.findall(normalised.lower())),
        minimal=_is_minimal(clean) and not addresses_judge,
        only_questions=only_questions,
        deflects=deflects,
        mirrors=mirrors,
        addresses_judge=addresses_judge,
        **{name: _dedupe(cues) for name, cues in found.items()},
    )


def _dedupe(cues: Sequence[Cue]) -> tuple[Cue, ...]:
    seen: set[tuple[str, str]] = set()
    out: list[Cue] = []
    for cue in cues:
        key = (cue.span.lower(), cue.sentence)
        if key not in seen:
            seen.add(key)
            out.append(cue)
    return tuple(out)


_SIMPLE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("permission", _PERMISSION),
    ("tentative", _TENTATIVE),
    ("validation", _VALIDATION),
    ("dismissal", _DISMISSAL),
    ("immediacy", _IMMEDIACY),
    ("self_involving", _SELF_INVOLVING),
    ("owning", _OWNING),
    ("defensive", _DEFENSIVE),
    ("time_boundary", _TIME_BOUNDARY),
    ("confidentiality", _CONFIDENTIALITY),
    ("frame_yield", _FRAME_YIELD),
    ("rigid", _RIGID),
    ("self_disclosure", _SELF_DISCLOSURE),
)
