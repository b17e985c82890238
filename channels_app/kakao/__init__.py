"""KakaoTalk: the Kakao i Open Builder skill server (``POST /kakao/skill``)."""
