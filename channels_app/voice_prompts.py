"""What callers hear: the prompt catalogue per language, and how a prompt is spoken.

Prompts are a catalogue per language (what the caller hears), not page text: each language
names the Twilio ``<Say>`` voice language that speaks it. Twilio has no Mongolian voice, so
Mongolian prompts are recordings, played from ``static/voice/prompts/mn/<key>.wav`` (or
``.mp3``); ``manage.py voice_prompts`` prints the script to record and ``--check`` lists what
is missing. A missing recording is said in English instead, with a warning in the log.
"""

import logging
from dataclasses import dataclass, fields, replace
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.staticfiles import finders

logger = logging.getLogger(__name__)

# Where a language without a Twilio voice keeps its recorded prompts (under static/).
RECORDED_PROMPT_PATH = "voice/prompts/{language}/{key}.{extension}"
RECORDING_EXTENSIONS = ("wav", "mp3")


@dataclass(frozen=True)
class Prompts:
    say_language: str  # Twilio <Say language="…">; empty: no Twilio voice, recordings play
    queued: str
    position: str  # {position}, {minutes} (a recording has none: it says "please hold")
    no_agents: str
    unavailable: str
    callback_offer: str
    callback_taken: str
    after_hours: str  # then the tone: a voicemail, ended by "#"
    voicemail_taken: str
    goodbye: str
    on_hold: str  # between stretches of quiet while the agent has the caller on hold
    language_option: str = ""  # its line in the language menu (not Korean's: not there)


PROMPTS = {
    "ko": Prompts(
        say_language="ko-KR",
        queued="상담원에게 연결해 드리겠습니다. 잠시만 기다려 주십시오.",
        position="고객님의 대기 순서는 {position}번째이며, 예상 대기 시간은 약 {minutes}분입니다.",
        no_agents="지금은 상담 가능한 상담원이 없습니다. 잠시만 기다려 주십시오.",
        unavailable="죄송합니다. 지금은 전화 상담을 받을 수 없습니다. 잠시 후 다시 걸어 주십시오.",
        callback_offer="기다리지 않고 상담원의 전화를 받으시려면 1번을 눌러 주십시오.",
        callback_taken="콜백 요청이 접수되었습니다. "
        "상담원이 지금 거신 번호로 전화드리겠습니다. 감사합니다.",
        after_hours="지금은 상담 시간이 아닙니다. 삐 소리 후 용건과 연락처를 남겨 주시면 "
        "다음 상담 시간에 연락드리겠습니다. 녹음을 마치시면 우물 정자를 눌러 주십시오.",
        voicemail_taken="남겨 주신 말씀이 접수되었습니다. 다음 상담 시간에 연락드리겠습니다. "
        "감사합니다.",
        goodbye="120 시민 상담 콜센터를 이용해 주셔서 감사합니다. 안녕히 계십시오.",
        on_hold="잠시만 기다려 주십시오. 상담원이 곧 다시 연결됩니다.",
    ),
    "en": Prompts(
        say_language="en-US",
        queued="We will connect you to an agent. Please hold.",
        position="You are number {position} in the queue. "
        "The estimated wait is about {minutes} minutes.",
        no_agents="No agent who speaks your language is available right now. Please hold.",
        unavailable="Sorry, we cannot take calls right now. Please call again later.",
        callback_offer="To be called back instead of waiting, press 1.",
        callback_taken="Your call-back request is received. An agent will call this number. "
        "Thank you.",
        after_hours="Our agents are not available at this time. After the tone, please leave "
        "your message and a number where we can reach you, and we will contact you during our "
        "next opening hours. Press the pound key when you are done.",
        voicemail_taken="Your message has been received. We will contact you during our next "
        "opening hours. Thank you.",
        goodbye="Thank you for calling. Goodbye.",
        on_hold="Please hold. Your agent will be back with you shortly.",
        language_option="For English, press 1.",
    ),
    "zh": Prompts(
        say_language="cmn-CN",
        queued="正在为您转接客服人员，请稍候。",
        position="您前面还有{position}位，预计等待时间约{minutes}分钟。",
        no_agents="目前没有可以使用您的语言的客服人员，请稍候。",
        unavailable="抱歉，现在无法接听电话，请稍后再拨。",
        callback_offer="如需客服人员回电而不必等待，请按1。",
        callback_taken="已收到您的回电请求，客服人员将拨打您现在的号码。谢谢。",
        after_hours="现在不是咨询时间。请在提示音后留下您的事由和联系方式，"
        "我们将在下一个咨询时间与您联系。录音结束后请按井号键。",
        voicemail_taken="您的留言已收到，我们将在下一个咨询时间与您联系。谢谢。",
        goodbye="感谢您的来电，再见。",
        on_hold="请稍候，客服人员马上回来。",
        language_option="中文服务请按2。",
    ),
    "ja": Prompts(
        say_language="ja-JP",
        queued="オペレーターにおつなぎします。しばらくお待ちください。",
        position="お客様の順番は{position}番目です。待ち時間は約{minutes}分です。",
        no_agents="ただいま対応できるオペレーターがおりません。しばらくお待ちください。",
        unavailable="申し訳ございません。ただいまお電話をお受けできません。",
        callback_offer="お待ちいただかずに折り返しのお電話をご希望の方は1番を押してください。",
        callback_taken="折り返しのご依頼を承りました。この番号にオペレーターからお電話します。",
        after_hours="ただいま受付時間外です。発信音の後に、ご用件とご連絡先をお話しください。"
        "次の受付時間にご連絡いたします。録音が終わりましたら、シャープを押してください。",
        voicemail_taken="メッセージを承りました。次の受付時間にご連絡いたします。"
        "ありがとうございました。",
        goodbye="お電話ありがとうございました。失礼いたします。",
        on_hold="少々お待ちください。まもなくオペレーターにおつなぎします。",
        language_option="日本語は3番を押してください。",
    ),
    "vi": Prompts(
        say_language="vi-VN",
        queued="Chúng tôi sẽ kết nối bạn với nhân viên tư vấn. Vui lòng chờ.",
        position="Bạn đang ở vị trí số {position}. Thời gian chờ dự kiến khoảng {minutes} phút.",
        no_agents="Hiện chưa có nhân viên nói ngôn ngữ của bạn. Vui lòng chờ.",
        unavailable="Xin lỗi, hiện chúng tôi không thể nhận cuộc gọi. Vui lòng gọi lại sau.",
        callback_offer="Để được gọi lại thay vì chờ, xin nhấn phím 1.",
        callback_taken="Yêu cầu gọi lại đã được ghi nhận. Nhân viên sẽ gọi lại số này. Cảm ơn bạn.",
        after_hours="Hiện không phải giờ làm việc. Sau tiếng bíp, xin vui lòng để lại nội dung "
        "và số điện thoại liên lạc, chúng tôi sẽ liên hệ lại vào giờ làm việc tiếp theo. "
        "Nhấn phím thăng khi kết thúc.",
        voicemail_taken="Tin nhắn của bạn đã được ghi nhận. Chúng tôi sẽ liên hệ lại vào giờ "
        "làm việc tiếp theo. Cảm ơn bạn.",
        goodbye="Cảm ơn bạn đã gọi. Xin chào tạm biệt.",
        on_hold="Vui lòng chờ. Nhân viên sẽ quay lại ngay.",
        language_option="Tiếng Việt, xin nhấn phím 4.",
    ),
    # Recorded, not said: the script of static/voice/prompts/mn/ (manage.py voice_prompts).
    "mn": Prompts(
        say_language="",
        queued="Таныг зөвлөхтэй холбож байна. Түр хүлээнэ үү.",
        position="Та дараалалд байна. Удахгүй холбогдох тул түр хүлээнэ үү.",
        no_agents="Одоогоор монгол хэлтэй зөвлөх байхгүй байна. Түр хүлээнэ үү.",
        unavailable="Уучлаарай, одоо дуудлага хүлээн авах боломжгүй байна. Дараа дахин залгана уу.",
        callback_offer="Хүлээхгүйгээр буцааж залгуулах бол 1 дарна уу.",
        callback_taken="Буцааж залгах хүсэлтийг тань хүлээн авлаа. "
        "Зөвлөх энэ дугаар луу залгана. Баярлалаа.",
        after_hours="Одоо ажлын цаг биш байна. Дохионы дараа асуудал болон холбоо барих "
        "дугаараа үлдээвэл дараагийн ажлын цагаар тантай холбогдоно. "
        "Дуусгаад тор тэмдэг дарна уу.",
        voicemail_taken="Таны мессежийг хүлээн авлаа. Дараагийн ажлын цагаар тантай "
        "холбогдоно. Баярлалаа.",
        goodbye="Залгасанд баярлалаа. Баяртай.",
        on_hold="Түр хүлээнэ үү. Зөвлөх удахгүй эргэн холбогдоно.",
        language_option="Монгол хэлээр 5 дарна уу.",
    ),
}
# What is said, in English, where a recorded language's recording is missing.
SAID_INSTEAD = {"mn": replace(PROMPTS["en"], language_option="For Mongolian, press 5.")}

WELCOME = "안녕하십니까, 120 시민 상담 콜센터입니다. 상담 품질 향상을 위해 통화 내용이 녹음됩니다."
MAIN_MENU = (
    "일반 시정 안내는 1번, 외국어 상담은 2번, 수어 영상 상담 안내는 3번, "
    "상담원 연결은 0번을 누르시거나 말씀해 주십시오."
)
INVALID_CHOICE = "잘못 누르셨습니다."
SIGN_LANGUAGE_INFO = (
    "수어 영상 상담은 120 홈페이지의 영상 상담 버튼이나 영상 전화로 이용하실 수 있습니다. "
    "청각장애인 영상 상담은 평일과 주말 모두 받습니다."
)


def prompt_language(language: str) -> str:
    """The catalogue a caller in ``language`` hears: their own, else Korean."""
    return language if language in PROMPTS else "ko"


def prompt_keys() -> list[str]:
    return [field.name for field in fields(Prompts) if field.name != "say_language"]


def recorded_prompt(language: str, key: str) -> str | None:
    """The static path of a prompt's recording, when there is one."""
    for extension in RECORDING_EXTENSIONS:
        path = RECORDED_PROMPT_PATH.format(language=language, key=key, extension=extension)
        if finders.find(path):
            return path
    return None


def speak(target, language: str, key: str, **values) -> None:
    """Add the prompt ``key`` of ``language``'s catalogue to ``target``: said by Twilio, or,
    where Twilio has no voice, played from its recording (Twilio fetches it by absolute URL;
    a recording has no numbers in it). A missing recording is said in English, and logged."""
    prompts = PROMPTS[language]
    if prompts.say_language:
        target.say(getattr(prompts, key).format(**values), language=prompts.say_language)
        return
    recording = recorded_prompt(language, key)
    if recording:
        target.play(urljoin(settings.PUBLIC_BASE_URL + "/", settings.STATIC_URL) + recording)
        return
    logger.warning("voice prompt %s/%s is not recorded: said in English", language, key)
    instead = SAID_INSTEAD[language]
    target.say(getattr(instead, key).format(**values), language=instead.say_language)
