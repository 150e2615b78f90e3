import { handlers } from "@/auth";
import { withErrorAnswers } from "@/lib/authjs-answers";
import { otherMethods } from "@/lib/methods";

export const GET = withErrorAnswers(handlers.GET);
export const POST = withErrorAnswers(handlers.POST);
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
