import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from callcenter import roles
from callcenter.models import Agent, Citizen, Contact, Queue, Skill, SocketConnection, User
from tickets.models import Category, Department, Officer


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "사용자"
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    kind = Skill.Kind.TOPIC


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=[roles.AGENT])
    display_name = factory.Sequence(lambda n: f"상담사{n}")
    console_seen_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)

    @factory.post_generation
    def console(self, create, extracted, **kwargs):
        """Agents have their console open, as at work; ``console=False`` for one closed."""
        if not create:
            return
        if extracted is False:
            Agent.objects.filter(pk=self.pk).update(console_seen_at=None)
            self.console_seen_at = None
            return
        SocketConnection.objects.create(channel_name=f"test.console.{self.pk}", agent=self)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"부서{n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class OfficerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Officer

    user = factory.SubFactory(UserFactory, roles=[roles.OFFICER])
    department = factory.SubFactory(DepartmentFactory)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"분류{n}")
    code = factory.Sequence(lambda n: f"cat-{n}")


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    name = "시민"
    phone = factory.Sequence(lambda n: f"+82100000{n:04d}")


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"queue-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    channels = factory.LazyFunction(lambda: ["voice"])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    channel = "voice"
    queue = factory.SubFactory(QueueFactory)
    queued_at = factory.LazyFunction(timezone.now)
