"""Wording patterns for the relationship and the frame: questions, invitations to elaborate and
to collaborate, here-and-now statements, self-involvement, owning a part, time and
confidentiality boundaries, and text aimed at a rating system rather than the client.

Data only, matched against normalised text by `app.evaluator.features`.
"""

from __future__ import annotations

import re

from app.evaluator.lexicon import LEAD

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


QUESTION_OPEN = _rx(
    LEAD + r"(?:what(?!\s+(?:you're|you\s+are|you've|I|I'm|I've)\b)|what's|whats|how|how's|why|"
    r"where|when|who|whom|whose|which|in\s+what\s+way|to\s+what\s+extent|how\s+come)\b"
    r"(?!\s+a\b)"
)
QUESTION_CLOSED = _rx(
    LEAD + r"(?:do|does|did|are|is|was|were|am|can|could|would|will|have|has|had|should|shall|may|"
    r"might|must|don't|doesn't|didn't|aren't|isn't|wasn't|weren't|can't|couldn't|wouldn't|won't|"
    r"haven't|hasn't|shouldn't)\b"
)
OPEN_LEADING = _rx(
    r"\bI(?:'m|\s+am)\s+(?:curious|wondering)\s+(?:about|what|how|why|where|when)\b",
    r"\bI\s+wonder\s+(?:what|how|why|where)\b",
)
ELABORATION_PROMPT = _rx(
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
ELABORATION_STATEMENT = _rx(
    r"\bI(?:'m|\s+am)\s+(?:here|all\s+ears|happy\s+to\s+listen|listening)\s*(?:if|whenever|when|"
    r"for\s+you|to\s+listen)",
    r"\bfeel\s+free\s+to\s+(?:share|tell|talk|say|vent|go\s+on|keep\s+going)\b",
    r"\bif\s+you\s+(?:want|'d\s+like|would\s+like|feel\s+like|ever\s+want|need)\s+to\s+(?:talk|share|"
    r"say\s+more|tell\s+me|vent|go\s+on)\b",
    r"\bI(?:'d|\s+would)\s+(?:like|love|really\s+like)\s+to\s+(?:hear|know|understand)\b"
    r"|\bI(?:'m|\s+am)\s+(?:curious|interested)\b",
)
COLLABORATION = re.compile(
    r"(?P<process>"
    r"\bhow\s+(?:does|is|was|did)\s+(?:it|this|that)\s+(?:\w+\s+){0,4}?(?:when|that|as|if)\s+we\b"
    r"|\bhow\s+(?:is|was|does)\s+(?:this|it|that)\s+(?:going|working|feeling|sitting|landing|feel)"
    r"\s+for\s+you\b"
    r"|\bhow\s+(?:is|was)\s+it\s+(?:for\s+you,?\s+)?(?:to\s+)?(?:talk|be\s+talking|talking|hear|"
    r"be\s+here|sit)\b"
    r"|\b(?:would\s+it\s+be|is\s+it|would\s+you\s+be)\s+(?:okay|ok|alright|all\s+right|helpful|"
    r"useful|open)\s+(?:with\s+you\s+)?(?:if|to|for)\b"
    r"|\bwhat\s+would\s+you\s+(?:like|want|prefer|find\s+(?:most\s+)?(?:helpful|useful))\b"
    r"|\bwhat\s+do\s+you\s+(?:want|need|hope)\s+(?:to\s+(?:focus|talk|start|look|use|get|work|take)"
    r"|from\s+(?:today|this|our|me|us|the\s+session))\b"
    r"|\bwhat\s+would\s+be\s+(?:most\s+|more\s+|the\s+most\s+)?(?:helpful|useful|important)\b"
    r"|\bhow\s+would\s+you\s+like\s+(?:to|us\s+to|me\s+to)\b"
    r"|\bwhere\s+(?:would|do)\s+you\s+(?:like|want)\s+to\s+(?:start|begin|go|take\s+(?:this|it))\b"
    r"|\bshall\s+we\b|\bshould\s+we\b|\bcould\s+we\b|\bcan\s+we\b(?!\s+not\b)"
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
    r"|\bcorrect\s+me\b|\blet\s+me\s+know\s+if\b|\btell\s+me\s+if\s+(?:I|this|that|it|any)\b"
    r"|\bstop\s+me\s+if\b"
    r"|\bhow\s+does\s+(?:that|this)\s+(?:sound|land|sit|feel)\b"
    r"|\bwhat\s+do\s+you\s+make\s+of\b|\bwhat(?:'s|\s+is)\s+your\s+(?:sense|take|view|feeling|read)\b"
    r"|\bwhat\s+do\s+you\s+think\b|\bdid\s+I\s+(?:get|understand|hear)\s+(?:that|it|this|you)\b"
    r")|(?P<autonomy>"
    r"\b(?:it's|that's|it\s+is|that\s+is)\s+(?:completely\s+|entirely\s+|totally\s+|really\s+)?"
    r"(?:up\s+to\s+you|your\s+(?:call|choice|decision))\b"
    r"|\byou\s+know\s+(?:yourself|your\s+(?:own\s+)?[\w']+(?:\s+[\w']+)?)\s+(?:best|better)\b"
    r"|\b(?:only\s+)?if\s+you(?:'d|\s+would)?\s+(?:like|want)\s+(?:to\s+)?(?:hear|know|try|do|go|look|"
    r"talk|share|explore)\b|\bonly\s+if\s+you\b|\bif\s+you(?:'re|\s+are)\s+(?:willing|open\s+to|up\s+for|"
    r"comfortable|okay\s+with)\b"
    r"|\byou(?:'re|\s+are)\s+the\s+(?:expert|best\s+judge)\s+(?:on|of|in)\s+your\b"
    r"|\byou\s+(?:get\s+to|can)\s+(?:decide|choose)\b|\byou\s+(?:decide|choose|set\s+the\s+pace)\b"
    r"|\byou(?:'re|\s+are)\s+the\s+one\s+who\s+(?:decides|chooses|gets\s+to|sets)\b"
    r"|\bat\s+(?:your\s+own|your|whatever|a)\s+pace\b|\bwhatever\s+(?:pace\s+)?(?:suits|works\s+for|"
    r"feels\s+right\s+(?:for|to))\s+you\b"
    r"|\b(?:in\s+your\s+own\s+time|at\s+your\s+(?:own\s+)?pace|whenever\s+you're\s+ready|"
    r"when\s+you're\s+ready|only\s+if\s+you\s+want)\b"
    r"|\byou\s+don't\s+(?:have|need)\s+to\s+(?:talk|say|go\s+(?:into|there)|share|answer|decide|"
    r"tell|explain|rush|do\s+anything)\b"
    r"|\bfeel\s+free\b|\btake\s+your\s+time\b|\bno\s+pressure\b|\btake\s+it\s+or\s+leave\s+it\b"
    r")",
    _I,
)
PERMISSION = _rx(
    r"\b(?:can|could|may|might)\s+I\s+(?:share|offer|suggest|make\s+a\s+suggestion|give\s+you|"
    r"tell\s+you\s+(?:what|something))\b",
    r"\b(?:would|do)\s+you\s+(?:like|want|be\s+open\s+to)\s+(?:some|a\s+few|my|an?)\s+(?:ideas?|"
    r"suggestions?|thoughts?|advice|tips?|options?|information)\b",
    r"\bwould\s+it\s+be\s+(?:okay|ok|alright|all\s+right|helpful)\s+if\s+I\b",
    r"\bif\s+you(?:'d|\s+would)?\s+(?:like|want)\b|\bup\s+to\s+you\b|\byou\s+know\s+yourself\s+best\b"
    r"|\btake\s+it\s+or\s+leave\s+it\b|\bsee\s+(?:if|whether)\s+(?:it|that|any\s+of\s+it)\s+fits\b"
    r"|\bsome\s+people\s+find\b|\byour\s+(?:call|choice|decision)\b|\bno\s+pressure\b",
)
IMMEDIACY = _rx(
    r"\bright\s+now\b|\bjust\s+now\b|\bin\s+this\s+(?:room|moment|session|conversation)\b|\bin\s+here\b"
    r"|\bat\s+this\s+moment\b|\bin\s+the\s+moment\b",
    r"\bhere\s+with\s+(?:me|you)\b|\bbetween\s+(?:us|you\s+and\s+me|the\s+two\s+of\s+us)\b"
    r"|\bwith\s+me\b|\bthe\s+two\s+of\s+us\b",
    r"\bas\s+(?:we|you)\s+(?:talk|speak|sit|say|tell|describe|share)\b",
    r"\bI\s+(?:notice|noticed|'m\s+noticing|am\s+noticing|'m\s+aware|am\s+aware|'m\s+struck|"
    r"am\s+struck|find\s+myself|'m\s+finding\s+myself)\b",
    r"\bour\s+(?:relationship|work\s+together|conversation)\b|\bhow\s+we(?:'re|\s+are)\s+"
    r"(?:working|talking|doing)\b",
    # The act of telling the counsellor, as something happening between them.
    r"\b(?:what|how)(?:'s|\s+is|\s+it's|\s+it\s+is|\s+was)?\s+(?:it\s+)?(?:like|feels?)\s+(?:for\s+you\s+)?"
    r"(?:to\s+)?(?:tell|say|share|bring|talk\s+about)\b[^.?!]*?\b(?:me|here)\b"
    r"|\b(?:telling|saying|sharing|showing)\s+(?:this|that|it|me)\s+(?:to\s+|with\s+)?me\b",
)
# "Right now" and "between us" are here-and-now only when they are about the two people in the
# room: not "the most important thing right now is…", not "it stays between us".
IMMEDIACY_TIME_ONLY = _rx(r"^(?:right|just)\s+now$|^at\s+this\s+moment$|^in\s+the\s+moment$")
IMMEDIACY_PERSONAL = _rx(
    r"\b(?:I|I'm|I've|I'd|me|my|we|we're|us|our|here|feel|feeling|feels|sitting|notice|noticing|"
    r"seem|seems|sound|sounds|went|gone|getting|became|becoming)\b"
)
FRAME_BEFORE = _rx(r"\b(?:stays?|staying|kept|remains?|keep\s+(?:it|this|that)|is\s+just)\s+$")
SELF_INVOLVING = _rx(
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
OWNING = _rx(
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
DEFENSIVE = _rx(
    r"\bI\s+know\s+what\s+I(?:'m|\s+am)\s+doing\b|\bI\s+(?:have|'ve\s+got|'ve\s+had)\s+(?:years\s+of|"
    r"a\s+lot\s+of|plenty\s+of)\s+(?:experience|training)\b|\bI\s+assure\s+you\b|\btrust\s+me\b",
    r"\bI\s+(?:did|do|was)\s+(?:listen|listening)\b|\bthat's\s+not\s+(?:true|fair|what\s+I\s+said)\b"
    r"|\bI\s+never\s+said\b|\byou(?:'re|\s+are)\s+(?:wrong|being\s+(?:unfair|rude|difficult))\b"
    r"|\bthere's\s+no\s+need\s+to\s+be\s+(?:rude|like\s+that)\b|\bI\s+don't\s+appreciate\b",
)
TIME_BOUNDARY = _rx(
    r"\bwe(?:'ve|\s+have)\s+(?:got\s+)?(?:about\s+|around\s+|only\s+|just\s+)?(?:\d+|a\s+few|"
    r"a\s+couple\s+of|one|two|three|four|five|ten|fifteen|twenty|thirty|forty|fifty|sixty|"
    r"forty-five)\s+(?:more\s+)?minutes?\b",
    r"\bfor\s+(?:the\s+)?(?:next\s+)?(?:\d+|fifteen|twenty|thirty|forty|fifty|sixty|forty-five|"
    r"fifty-five)\s+minutes\b|\b(?:an|one)\s+hour\s+(?:together|today)\b",
    r"\b(?:\d+|a\s+few|a\s+couple\s+of|one|two|three|five|ten|fifteen)\s+minutes?\s+(?:left|"
    r"remaining|to\s+go)\b",
    r"\bour\s+time\b|\b(?:time\s+is|time's)\s+(?:up|nearly\s+up|almost\s+up|running\s+out)\b"
    r"|\bout\s+of\s+time\b|\b(?:nearly|almost)\s+(?:time|at\s+the\s+end)\b|\btowards?\s+the\s+end\b"
    r"|\bend\s+of\s+(?:our|the|today's|this)\s+session\b",
    r"\b(?:we'll|we\s+will|we'd|we\s+would|we|I'll|I\s+will|I)\s+(?:need\s+to|have\s+to|must|"
    r"should|'re\s+going\s+to\s+have\s+to|are\s+going\s+to\s+have\s+to)\s+(?:stop|finish|end|wrap|"
    r"close|pause|leave\s+it)\b",
    r"\b(?:end|finish|stop)\s+on\s+time\b"
    r"|\b(?:we|we'll|us|our|I'll|see\s+you)\b[^.?!]*\bnext\s+(?:session|time|week|appointment)\b"
    r"|\bnext\s+(?:session|time|week|appointment)\b[^.?!]*\b(?:we|we'll|us|our)\b"
    r"|\bbefore\s+we\s+(?:finish|stop|end|close|wrap)\b|\bcome\s+back\s+to\s+(?:this|that|it)\b"
    r"|\bpick\s+(?:this|that|it)\s+(?:back\s+)?up\b|\bwrap\s+(?:things\s+)?up\b",
    r"\b(?:run|go|running|going)\s+over\s+(?:time|our\s+time|the\s+time|today)\b|\bcan't\s+"
    r"(?:run|go)\s+over\b|\bthe\s+session\s+(?:ends|is\s+ending|finishes)\b|\bleave\s+it\s+there\b",
)
CONFIDENTIALITY = _rx(
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
FRAME_YIELD = _rx(
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
RIGID = _rx(
    r"\brules\s+are\s+rules\b|\bthat's\s+the\s+rule\b|\bit's\s+(?:the|our)\s+policy\b"
    r"|\bI\s+don't\s+make\s+the\s+rules\b|\bnon-negotiable\b|\bno\s+exceptions\b",
    r"\bI\s+(?:already\s+)?told\s+you\b|\bas\s+I\s+(?:already\s+)?said\b|\blike\s+I\s+said\b"
    r"|\bwe(?:'re|\s+are)\s+done\b|\byou\s+(?:need|have)\s+to\s+(?:leave|go)\s+now\b"
    r"|\bthat's\s+not\s+(?:my\s+problem|allowed)\b|\bI\s+(?:can't|cannot)\s+help\s+you\s+with\s+that\b",
)
SELF_DISCLOSURE = _rx(
    r"\bwhen\s+I\s+was\b|\bI\s+(?:went|'ve\s+been|have\s+been|had\s+been)\s+through\b"
    r"|\bsame\s+(?:thing\s+)?happened\s+to\s+me\b|\bme\s+too\b|\bin\s+my\s+(?:own\s+)?"
    r"(?:experience|life)\b|\bI\s+know\s+(?:exactly\s+)?how\s+you\s+feel\b",
    r"\bI(?:'ve|\s+have)\s+(?:had|experienced|dealt\s+with|felt)\s+(?:the\s+same|something\s+similar|"
    r"that\s+too|this\s+too|that\s+myself)\b|\bmy\s+(?:own\s+)?(?:ex|mum|mom|dad|father|mother|"
    r"husband|wife|partner|boyfriend|girlfriend|brother|sister|kids?|daughter|son)\b",
)
EVASIVE_HANDOFF = _rx(
    r"\blet's\s+(?:focus|keep\s+the\s+focus|bring\s+it\s+back)\s+(?:on|to)\s+you\b"
    r"|\b(?:it's|this\s+is)\s+not\s+about\s+me\b|\bthis\s+isn't\s+about\s+me\b"
    r"|\bwe(?:'re|\s+are)\s+here\s+to\s+talk\s+about\s+you\b"
    r"|\b(?:it's|it\s+is|what's|that's)\s+(?:much\s+|far\s+)?more\s+important\b[^.?!]*\byou\b"
    r"|\bwhat\s+matters\s+(?:more|most|here)\s+is\s+(?:you|what\s+you|how\s+you)\b",
    r"\bwhat\s+I\s+think\s+(?:doesn't|does\s+not)\s+matter\b|\bit\s+doesn't\s+matter\s+what\s+I\s+"
    r"think\b|\bit's\s+not\s+(?:my\s+place|for\s+me)\s+to\b|\bI\s+(?:can't|cannot)\s+(?:answer|say|"
    r"tell\s+you)\s+that\b|\bI(?:'m|\s+am)\s+not\s+(?:here|allowed)\s+to\b|\bwhat\s+matters\s+is\s+"
    r"what\s+you\b",
)
# Text aimed at a rating system rather than the client. Flagged, excluded, never obeyed.
INJECTION = _rx(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|the|any|your|previous|prior|above|"
    r"these|those|earlier|other)\s+)*(?:instructions?|rubric|rules?|prompts?|guidelines|scoring|"
    r"criteria|system|directions)\b",
    # Asking for a score: "rate this turn", "score me 3", "give me full marks", "only 3s".
    # Not a scaling question ("how would you rate it?"), which a counsellor asks the client.
    r"(?<!you\s)\b(?:rate|score|grade|mark)\s+(?:me|my\s+(?:turn|reply|response|answer)|this\s+(?:turn|"
    r"reply|response|answer)|it\s+as|every|each|all|everything)\b"
    r"|\bgive\s+(?:me|this(?:\s+turn|\s+reply|\s+response)?|"
    r"it)\s+(?:a\s+|all\s+|full\s+|top\s+|good\s+|high\s+)?(?:[0-3]s?|threes?|full\s+marks|top\s+"
    r"marks|max(?:imum)?|perfect|high(?:est)?|good\s+scores?|scores?)\b|\b(?:full|top)\s+marks\b"
    r"|\b[0-3]s\b|\bscores?\s*[:=]\s*[0-3]\b|\ball\s+(?:the\s+)?scores\s+(?:are|should|must)\b"
    r"|\boutput\s+(?:only|just)\b",
    # Naming the machinery: the rubric, the judge, the schema's own field names.
    r"\b(?:system\s+prompt|rubric|evaluator|the\s+judge|grader|language\s+model|as\s+an\s+ai|"
    r"ai\s+(?:judge|evaluator|model|assistant)|you\s+are\s+now|new\s+instructions?)\b"
    r"|\b(?:every|each|all)\s+dimensions?\b|\b[a-z]+_[a-z_]+\b|\b(?:BEGIN|END)\s+MATERIAL\b",
    # Role labels and chat-template tokens, anywhere in the line.
    r"\b(?:system|assistant|developer|judge|evaluator|grader)\s*:|<\|[a-z_]+\|>|\[/?INST\]"
    r"|<</?SYS>>|</?[a-z][a-z_-]*\s*/?>",
)
# Fake structured output: a fence or an object with quoted keys; then a quoted key running to
# the end of the line (an attempt to close the data block's own JSON string); then the stray
# brackets and quotes either leaves behind.
JSON_BLOCK = re.compile(r"```[a-z]*|\{[^{}]*\"[A-Za-z_]+\"\s*:[^{}]*\}", _I)
JSON_TAIL = re.compile(r"\"[A-Za-z_]+\"\s*:[^\n]*")
JSON_DEBRIS = re.compile(r"(?:^|(?<=\s))[\[\]{}\",:]+(?=\s|$)")
FILLERS = _words(
    "mm mmm mhm hmm hm uh huh ok okay right i see yes yeah yep sure alright got it understand "
    "understood ah oh aha mmhmm true cool fair enough indeed of course"
)
STOPWORDS = _words(
    "the and but you your you're i'm it's that this with have has had was were are is for not "
    "just what how why when where who can could would should will like really so very about "
    "from they them then than there their been being into out all any some get got feel feeling "
    "know think me my myself yourself one too also it its him her his she he we our us don't "
    "didn't can't i've i'd i'll you've you'd okay yeah"
)
