-- Which dial of its attempt a kept SIP call is (dispatch.attempts.dial_no when it was placed): a call taken over after
-- its dispatcher stopped is reported as that dial's, so a row that outlived its dial (it could not be deleted when the
-- dial ended, and the attempt was dialled again since) ends nothing. Null for rows kept before this column. Adding a
-- nullable column rewrites nothing.
ALTER TABLE dispatch.sip_dialogs ADD COLUMN dial_no integer;
